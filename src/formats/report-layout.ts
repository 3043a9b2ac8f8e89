/**
 * Report layouts (docs/design/xlsx-and-exports.md §6): where the
 * header of a positional table is, and what is dropped at its end. It works
 * on records as text cells, for every positional format (CSV and TSV, JSON
 * arrays of arrays, and sheets), never on a format's own text.
 *
 * - Header: 1C and Excel reports put title lines, a period line and blank
 *   lines above the header. Like DuckDB's CSV sniffer, each of the first
 *   rows is scored by how consistently the rows below it read as one typed
 *   shape, and by whether its own cells name typed columns (a header is text
 *   over numbers and dates). Rows above the winner are skipped.
 * - Footer: a totals row (`Итого;;;14;96 691,40`) and empty rows at the very
 *   end are dropped: only the contiguous block at the end, so a "Total"
 *   inside the data stays data. While streaming, rows that look like totals
 *   are held back until a later data row proves them data, or the end drops
 *   them; at most FooterRule.maxHeld of them (past that, the block is data).
 * The sidecar's `headerRow`/`skipRows`/`footerRows` replace both.
 */

import type { FooterRow, FooterRule, SkippedRow, TextRow } from "../model";
import { dateKind } from "../values/dates";
import { numberShape } from "../values/numbers";

/** Rows looked at to find the header, and how far down a header may be. */
export const LAYOUT_ROWS = 200;
const HEADER_CANDIDATES = 20;
const ROWS_BELOW = 100;
const MAX_SCORED_COLUMNS = 256;
/** Totals rows held back at most while streaming: a block longer than this is data. */
export const MAX_HELD_TOTALS = 100;
/** Footer rows listed in a report at most (the rest are counted, not listed). */
export const MAX_REPORTED = 100;
/**
 * Released rows handed out at once at most: a held run of empty rows is only
 * a count, and a data row after a million of them (a few MB of `,,,` lines,
 * far less gzipped) must not make a million rows in one batch.
 */
export const RELEASE_BATCH = 1024;
/** Row slots (rows × the table's width) handed on in one batch at most: 2 MB of slots, however wide the table. */
export const ROW_BATCH_CELLS = 1 << 18;

/** Rows of a table `width` wide in one batch: RELEASE_BATCH at most, fewer for a wide table, one at least. */
export function batchRows(width: number): number {
  return Math.max(1, Math.min(RELEASE_BATCH, Math.floor(ROW_BATCH_CELLS / Math.max(1, width))));
}

// Cheap on the common cell: only text starting with a blank is trimmed.
const isEmptyCell = (c: string | null | undefined) =>
  c === null ||
  c === undefined ||
  c === "" ||
  (c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0xa0 || c.charCodeAt(0) === 0x202f ? c.trim() === "" : false);

function nonEmptyCount(row: TextRow): number {
  let n = 0;
  for (const c of row) if (!isEmptyCell(c)) n++;
  return n;
}

/** Index of the last non-empty cell + 1. */
function usedWidth(row: TextRow): number {
  for (let i = row.length - 1; i >= 0; i--) if (!isEmptyCell(row[i])) return i + 1;
  return 0;
}

type CellClass = "number" | "date" | "string";

function classOf(text: string): CellClass {
  const t = text.trim();
  if (numberShape(t) !== null) return "number";
  if (dateKind(t) !== null) return "date";
  return "string";
}

export interface HeaderFound {
  /** 0-based index of the header among the records (blank ones included). */
  index: number;
  skipped: SkippedRow[];
}

function skippedAbove(rows: readonly TextRow[], index: number): SkippedRow[] {
  return rows.slice(0, index).map((r, i) => ({ row: i + 1, reason: nonEmptyCount(r) === 0 ? "empty" : "title" }));
}

/**
 * The header among the first records (blank records `[]` included): §6 of
 * the design note. Ties, and later rows that do not name typed columns, go
 * to the earliest candidate, so a plain table keeps its first row.
 */
export function findHeader(records: readonly TextRow[]): HeaderFound {
  const rows = records.slice(0, LAYOUT_ROWS);
  const counts = rows.map(nonEmptyCount);
  const firstNonEmpty = counts.findIndex((n) => n > 0);
  if (firstNonEmpty < 0) return { index: 0, skipped: [] };
  // The table's width: the most common used width among rows with two or more values.
  const widths = new Map<number, number>();
  for (let i = 0; i < rows.length; i++) if (counts[i] >= 2) widths.set(usedWidth(rows[i]), (widths.get(usedWidth(rows[i])) ?? 0) + 1);
  let width = 0;
  let best = 0;
  for (const [w, n] of widths) if (n > best || (n === best && w > width)) (width = w), (best = n);
  // A one-column table (or one value per row): no title rows to tell apart.
  if (width < 2) return { index: firstNonEmpty, skipped: skippedAbove(rows, firstNonEmpty) };

  // Scoring looks at the first columns only: a hostile row of a million cells costs no more than a wide report.
  const scored = Math.min(width, MAX_SCORED_COLUMNS);
  const classes = rows.map((r) => r.slice(0, scored).map((c) => (isEmptyCell(c) ? null : classOf(c!))));
  let winner = -1;
  let winnerScore = -Infinity;
  for (let h = 0; h < Math.min(rows.length, HEADER_CANDIDATES); h++) {
    if (counts[h] <= 1) continue; // a title or blank row is never the header
    let score = 0;
    let names = 0;
    for (let j = 0; j < scored; j++) {
      const tally = { number: 0, date: 0, string: 0 };
      let seen = 0;
      for (let r = h + 1, taken = 0; r < rows.length && taken < ROWS_BELOW; r++) {
        if (counts[r] === 0) continue;
        taken++;
        const k = classes[r][j];
        if (k === null || k === undefined) continue;
        tally[k]++;
        seen++;
      }
      if (seen === 0) continue;
      const majority: CellClass =
        tally.number >= tally.date && tally.number >= tally.string ? "number" : tally.date >= tally.string ? "date" : "string";
      score += tally[majority] / seen;
      if (classes[h][j] === "string" && majority !== "string") names++;
    }
    score += names;
    if (counts[h] < width / 2) score -= scored;
    const seenNames = new Set<string>();
    for (let j = 0; j < Math.min(rows[h].length, scored); j++) {
      const c = rows[h][j];
      if (isEmptyCell(c)) continue;
      const name = c!.trim();
      if (seenNames.has(name)) score -= 1;
      seenNames.add(name);
    }
    // A later row wins only by naming typed columns: else the first candidate stays the header.
    if (winner < 0 || (score > winnerScore + 1e-9 && names > 0)) {
      winner = h;
      winnerScore = score;
    }
  }
  if (winner < 0) return { index: firstNonEmpty, skipped: skippedAbove(rows, firstNonEmpty) };
  return { index: winner, skipped: skippedAbove(rows, winner) };
}

/** The labels a totals row starts with, in lower case (matched in any case). */
export const TOTAL_LABELS = ["итого", "всего", "total", "grand total", "gesamt", "summe", "suma", "razem"] as const;
// `Итого`, `Итого:`, `Итого по складу`, `Total`, `Grand total:`…: the label, then the end or a non-letter.
const TOTAL_LABEL = new RegExp(`^(?:${TOTAL_LABELS.join("|")})(?![\\p{L}\\p{N}])`, "iu");
const MAX_LABEL_CHARS = 200;
/** The letters a label starts with, in either case. */
const LABEL_INITIALS = [...new Set(TOTAL_LABELS.flatMap((l) => [l[0], l[0].toUpperCase()]))].join("");

const DATA = 0;
const EMPTY = 1;
const TOTAL = 2;

/** Whether a row is a totals row: a totals label first, then at least one number, and numbers only in numeric columns. */
export function isTotalsRow(row: TextRow, numeric: readonly boolean[]): boolean {
  return rowKind(row, numeric) === TOTAL;
}

/** DATA, EMPTY (no value) or TOTAL, looking at the first non-empty cell once (this runs on every row read). */
function rowKind(row: TextRow, numeric: readonly boolean[]): number {
  let first = -1;
  for (let i = 0; i < row.length; i++) {
    if (!isEmptyCell(row[i])) {
      first = i;
      break;
    }
  }
  if (first < 0) return EMPTY;
  return totalsFrom(row, first, numeric) ? TOTAL : DATA;
}

function totalsFrom(row: TextRow, first: number, numeric: readonly boolean[]): boolean {
  // Every label starts with one of these letters (after blanks): the usual data row is turned away here.
  const cell = row[first]!;
  const start = cell.charCodeAt(0) <= 0x20 || cell.charCodeAt(0) === 0xa0 ? cell.trimStart().charAt(0) : cell.charAt(0);
  if (!LABEL_INITIALS.includes(start)) return false;
  const label = cell.trim();
  if (label.length > MAX_LABEL_CHARS || !TOTAL_LABEL.test(label)) return false;
  let numbers = 0;
  for (let i = first + 1; i < row.length; i++) {
    const c = row[i];
    if (isEmptyCell(c)) continue;
    if (!numeric[i] || numberShape(c!) === null) return false;
    numbers++;
  }
  return numbers > 0;
}

/** A run of held rows: one row (a totals row) or `count` empty rows. */
interface Held {
  row: number;
  cells: TextRow | null;
  count: number;
}

/**
 * The footer rule applied to a stream of data rows: `push` each row with its
 * file row number, collecting the rows it releases into `out`; `end` returns
 * the rows dropped. Memory: at most maxHeld totals rows (empty rows are
 * counted, not kept), or the sidecar's `footerRows` rows. When
 * `backlogged`, the caller takes the released rows with `drain` (in batches)
 * before it pushes the next row.
 */
export class FooterFilter {
  private held: Held[] = [];
  private heldTotals = 0;
  /** A data row has been seen: only rows after one can be the footer. */
  private seenData = false;
  /** Count rule: rows pushed so far (the ring's write position). */
  private ringNext = 0;
  /** The current block of look-alikes outgrew the cap: it is data. */
  private overflow = false;
  /** Released rows not handed out yet, in order (`drain`); empty runs stay counts until taken. */
  private backlog: Held[] = [];
  private readonly numeric: boolean[];

  constructor(
    private readonly rule: FooterRule,
    private readonly width: number,
  ) {
    this.numeric = new Array(width).fill(false);
    if (rule.kind === "totals") for (const i of rule.numeric) this.numeric[i] = true;
  }

  push(cells: TextRow, row: number, out: TextRow[]): void {
    const rule = this.rule;
    if (rule.kind === "count") {
      if (rule.rows === 0) {
        out.push(cells);
        return;
      }
      // A ring of the last `rows` rows: the oldest leaves when a new one comes.
      const at = this.ringNext % rule.rows;
      if (this.ringNext >= rule.rows) out.push(this.held[at].cells!);
      this.held[at] = { row, cells, count: 1 };
      this.ringNext++;
      return;
    }
    const kind = rowKind(cells, this.numeric);
    if (kind === DATA && this.held.length === 0) {
      this.overflow = false;
      this.seenData = true;
      this.emit(cells, row, out); // the usual row: nothing held
      return;
    }
    // A footer is below data: rows before the first data row (a table of one "Total" row) are data.
    if (!this.seenData) {
      this.emit(cells, row, out);
      return;
    }
    if (this.overflow) {
      if (kind === DATA) this.overflow = false;
      this.emit(cells, row, out);
      return;
    }
    if (kind === EMPTY) {
      const last = this.held[this.held.length - 1];
      if (last && last.cells === null) last.count++;
      else this.held.push({ row, cells: null, count: 1 });
      return;
    }
    if (kind === TOTAL) {
      if (this.heldTotals < rule.maxHeld) {
        this.held.push({ row, cells, count: 1 });
        this.heldTotals++;
        return;
      }
      this.overflow = true;
    }
    this.release(out);
    this.seenData = true;
    this.emit(cells, row, out);
  }

  /**
   * A row known to be data (a data row by rowKind) when nothing is held or
   * waiting to be taken: it would be emitted at once, so it passes — true,
   * and the filter notes a data row — else false (push it instead).
   */
  passData(): boolean {
    const rule = this.rule;
    if (rule.kind === "count") return rule.rows === 0;
    if (this.held.length > 0 || this.backlog.length > 0) return false;
    this.overflow = false;
    this.seenData = true;
    return true;
  }

  /** Whether released rows wait to be taken with `drain` (a long run of empty rows was released). */
  get backlogged(): boolean {
    return this.backlog.length > 0;
  }

  /** Moves released rows into `out` until it holds `max` rows or none are left. */
  drain(out: TextRow[], max = batchRows(this.width)): void {
    while (this.backlog.length > 0 && out.length < max) {
      const h = this.backlog[0];
      if (h.cells) {
        out.push(h.cells);
        this.backlog.shift();
        continue;
      }
      const n = Math.min(h.count, max - out.length);
      for (let i = 0; i < n; i++) out.push(new Array(this.width).fill(null));
      h.count -= n;
      if (h.count === 0) this.backlog.shift();
    }
  }

  private emit(cells: TextRow, row: number, out: TextRow[]): void {
    if (this.backlog.length > 0) this.backlog.push({ row, cells, count: 1 });
    else out.push(cells);
  }

  private release(out: TextRow[]): void {
    let empties = 0;
    for (const h of this.held) if (!h.cells) empties += h.count;
    if (empties > batchRows(this.width) || this.backlog.length > 0) this.backlog.push(...this.held);
    else
      for (const h of this.held) {
        if (h.cells) out.push(h.cells);
        else for (let i = 0; i < h.count; i++) out.push(new Array(this.width).fill(null));
      }
    this.held = [];
    this.heldTotals = 0;
  }

  /** The rows dropped at the end (listed up to MAX_REPORTED) and how many in all. */
  end(): { rows: FooterRow[]; count: number } {
    const rows: FooterRow[] = [];
    let count = 0;
    if (this.rule.kind === "count" && this.ringNext > this.rule.rows) {
      // The ring in file order: oldest first.
      const at = this.ringNext % this.rule.rows;
      this.held = [...this.held.slice(at), ...this.held.slice(0, at)];
    }
    for (const h of this.held) {
      count += h.count;
      if (this.rule.kind === "count") rows.push({ row: h.row, reason: "footer" });
      else if (h.cells) rows.push({ row: h.row, reason: "total", firstCell: h.cells.find((c) => !isEmptyCell(c))!.trim() });
      else rows.push({ row: h.row, reason: "empty" });
    }
    this.held = [];
    this.heldTotals = 0;
    return { rows: rows.slice(0, MAX_REPORTED), count };
  }
}
