/**
 * Projection: the rows of a planned query as urlData JSON, UTF-8 bytes pulled
 * piece by piece by the writer. Each row's filter columns are converted and
 * tested; a passing row is written cell by cell straight into a byte buffer
 * (no intermediate strings: see streams/byte-builder.ts), cut into pieces of
 * about `pieceBytes`, so a wide select of long cells never builds one huge
 * buffer. A column selected twice is encoded once per row and its bytes
 * repeated. The limit stops reading the source.
 */
import type { RowBatches } from "../formats/rows";
import type { ByteRecords, Cell, ColumnType, Description, TextRow } from "../model";
import { ByteBuilder } from "../streams/byte-builder";
import { cellToJson, type Converter, type Emitter } from "../values/convert";
import { convertersFor, emittersFor, type QueryPlan } from "./pipeline";
import { byteWritersFor, fractionsAsIs } from "./byte-cells";
import { isByteBatch, type ByteRowBatch, type MixedRowBatches } from "../formats/byte-rows";
import { cellString } from "../formats/byte-records";

export interface AnswerOptions {
  /** The source's first batch when it was read already (before the answer started). */
  first?: IteratorResult<TextRow[] | ByteRowBatch, void>;
  /** About how many bytes one piece holds (one cell may exceed it). */
  pieceBytes: number;
  /** Called with the size of every source batch read. */
  onBatch?: (rows: number) => void;
  /** Called once when the rows are exhausted or the limit is reached, with the rows sent. */
  onEnd?: (sent: number) => void;
}

/** Pulls the next piece of the answer (`,[…],[…` as UTF-8; empty when a batch matched nothing); null when there is no more. */
export type AnswerPump = () => Promise<Uint8Array | null>;

const COMMA = 44;
const QUOTE = 34;
const OPEN = 91;
const CLOSE = 93;

/** Writes one cell's text as JSON, exactly as the column's emitter would (values/convert.ts). */
export type CellWriter = (out: ByteBuilder, text: string | null) => void;

const NULL = new TextEncoder().encode("null");

// The emitters' as-is number shapes, checked by character codes: text that
// already is canonical JSON for the same number is copied, no call, no string.
// -?(0|[1-9]\d{0,14}), and with `fraction` (a double column whose decimal is
// `.`) also -?(0|[1-9]\d*)\.\d+, under 17 characters (see emitterFor).
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function jsonNumberAsIs(t: string, fraction: boolean): boolean {
  const n = t.length;
  if (n === 0 || n > 16) return false;
  let i = t.charCodeAt(0) === 45 ? 1 : 0;
  if (i === n) return false;
  const lead = t.charCodeAt(i++);
  if (lead === 48) {
    if (i === n) return true;
  } else if (lead < 49 || lead > 57) return false;
  else while (i < n && isDigit(t.charCodeAt(i))) i++;
  if (i === n) return n - (t.charCodeAt(0) === 45 ? 1 : 0) <= 15;
  if (!fraction || t.charCodeAt(i) !== 46 || ++i === n) return false;
  while (i < n && isDigit(t.charCodeAt(i))) i++;
  return i === n;
}

function writerFor(type: ColumnType, emit: Emitter, convert: Converter, fractions: boolean): CellWriter {
  switch (type) {
    // Strings are the bulk of most answers: escaped and encoded in one pass,
    // exactly as the string emitter (`JSON.stringify`, empty is null) writes them.
    case "string":
      return (out, t) => (t === null || t === "" ? out.bytes(NULL) : out.jsonString(t));
    case "int":
    case "double": {
      const fraction = type === "double" && fractions;
      return (out, t) => (t !== null && jsonNumberAsIs(t, fraction) ? out.ascii(t) : out.text(emit(t)));
    }
    // Canonical dates are ASCII and hold nothing JSON escapes (as the emitter relies on).
    case "date":
    case "datetime":
      return (out, t) => {
        const v = convert(t);
        if (v === null) return out.bytes(NULL);
        out.byte(QUOTE);
        out.text(v as string);
        out.byte(QUOTE);
      };
  }
}

/** Per column: cell text → its JSON in the answer (compiled tables store exactly this). */
export function cellWritersFor(description: Description): CellWriter[] {
  const converters = convertersFor(description);
  const emitters = emittersFor(description);
  return description.columns.map((c, i) => writerFor(c.type, emitters[i], converters[i], fractionsAsIs(description, i)));
}

/** A typed cell (one the filter converted) → its JSON in the answer. */
export function writeTyped(out: ByteBuilder, cell: Cell): void {
  if (typeof cell === "string") out.jsonString(cell);
  else out.text(cellToJson(cell));
}

export function answerRows(description: Description, plan: QueryPlan, rows: RowBatches | MixedRowBatches, options: AnswerOptions): AnswerPump {
  const { selected, filter, limit } = plan;
  const converters = convertersFor(description);
  const writers = cellWritersFor(description);
  const byteWriters = byteWritersFor(description, writers);
  const filterCols = filter?.columns ?? [];
  // Per selected position: a column the filter already converted is written
  // from its typed cell; any other goes straight from text (or bytes) to JSON.
  const fromTyped = selected.map((i) => filterCols.includes(i));
  const typed: Cell[] = new Array(description.columns.length).fill(null);
  const unique = [...new Set(selected)];
  const dedupe = unique.length < selected.length;
  const cellJson: (Uint8Array | undefined)[] = new Array(description.columns.length);
  const out = new ByteBuilder(options.pieceBytes + 4096);
  const full = options.pieceBytes;
  let first = options.first ?? null;
  let batch: TextRow[] = [];
  /** The batch when it is byte records; `batch` is then empty and `order` says which row is next. */
  let bytes: ByteRowBatch | null = null;
  let size = 0; // rows in the batch
  let row: TextRow = []; // the text row being written
  let rec: ByteRecords | null = null; // or the byte records whose record is being written…
  let c0 = 0; // …from this cell on
  let sent = 0;
  let r = 0; // the row of the batch to look at next
  let col = -1; // position in `selected` while a text row is being written; -1 between rows
  const finish = () => {
    options.onEnd?.(sent);
    return null;
  };
  return async () => {
    let fetched = false;
    for (;;) {
      if (col >= 0) {
        while (col < selected.length) {
          const i = selected[col];
          if (col > 0) out.byte(COMMA);
          const cached = dedupe ? cellJson[i] : undefined;
          if (cached !== undefined) out.bytes(cached);
          else {
            const start = out.length;
            if (fromTyped[col]) writeTyped(out, typed[i]);
            else if (rec) byteWriters[i](out, rec, c0 + i);
            else writers[i](out, row[i]);
            if (dedupe) cellJson[i] = out.since(start);
          }
          col++;
          if (out.length >= full) return out.take();
        }
        out.byte(CLOSE);
        col = -1;
        r++;
        if (++sent >= limit) {
          await rows.return(undefined); // stop reading the source
          return out.take();
        }
        continue;
      }
      if (sent >= limit) return out.length > 0 ? out.take() : finish();
      if (r >= size) {
        // One source batch per call: the writer gets control back between them.
        if (out.length > 0 || fetched) return out.take();
        const next = first ?? (await rows.next());
        first = null;
        if (next.done) return finish();
        fetched = true;
        const value = next.value;
        if (isByteBatch(value)) {
          bytes = value;
          batch = [];
          size = value.order.length;
        } else {
          bytes = null;
          batch = value;
          size = value.length;
        }
        r = 0;
        options.onBatch?.(size);
        continue;
      }
      rec = null;
      if (bytes) {
        const k = bytes.order[r];
        if (k >= 0) {
          rec = bytes.records;
          c0 = rec.first[k];
        } else row = bytes.texts[-1 - k];
      } else row = batch[r];
      // Convert what the filter reads and test; only rows that pass are written.
      if (rec) for (const i of filterCols) typed[i] = converters[i](cellString(rec, c0 + i));
      else for (const i of filterCols) typed[i] = converters[i](row[i]);
      if (filter && !filter.test(typed)) {
        r++;
        continue;
      }
      if (dedupe) for (const i of unique) cellJson[i] = undefined;
      out.byte(COMMA);
      out.byte(OPEN);
      col = 0;
    }
  };
}
