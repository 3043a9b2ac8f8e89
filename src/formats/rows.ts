/**
 * Records of any format → rows of cell text aligned with the table's columns.
 * This is the one place that knows where a header is and how wide a row is:
 * short rows are padded with empty cells (exports often drop trailing empty
 * cells), a row with extra non-empty cells is an error — guessing which cell
 * belongs where would put wrong numbers into a report.
 */
import { AppError } from "../errors";
import type { Bytes, Description, FileAccess, FooterRow, ReadOptions, RecordReader, TextRow } from "../model";
import { batchRows, FooterFilter, ROW_BATCH_CELLS } from "./report-layout";

export { ROW_BATCH_CELLS };

export type RowBatches = AsyncGenerator<TextRow[], void, undefined>;

/** What reading rows needs of a description. */
export type RowShape = Pick<Description, "reader" | "keys" | "header" | "layout">;

/** Records before the header record (title lines, blank lines). */
const recordsBeforeHeader = (shape: RowShape) => (shape.layout ? shape.layout.headerRow - 1 : 0);

/** A blank line of a positional file (formats/report-layout.ts): no row. */
const isBlank = (record: unknown) => Array.isArray(record) && record.length === 0;

type CellText = RecordReader["cellText"];

const textOf = (value: unknown, cellText: CellText): string | null => (cellText ? cellText(value) : (value as string));

/** One cell value as text, the way `reader` makes text of cells. */
export const cellTextOf = (reader: RecordReader, value: unknown): string | null => textOf(value, reader.cellText);

/** The header record of a read differs from the described one. */
export function fileChanged(detail: string): AppError {
  return new AppError(
    "FILE_CHANGED",
    `The file's header changed since it was described (${detail}); retry: the next request describes the file again.`,
  );
}

/** How a header record differs from the described one, or null when it does not. */
function headerDifference(record: readonly unknown[], expected: TextRow, cellText: CellText): string | null {
  const n = Math.max(record.length, expected.length);
  for (let i = 0; i < n; i++) {
    const got = i < record.length ? textOf(record[i], cellText) : undefined;
    const want = i < expected.length ? expected[i] : undefined;
    if (got !== want) {
      const show = (v: string | null | undefined) => (v === undefined ? "absent" : JSON.stringify(v));
      return `column ${i + 1} is now ${show(got)}, it was ${show(want)}`;
    }
  }
  return null;
}

function checkHeader(record: readonly unknown[], expected: TextRow, cellText: CellText): void {
  const difference = headerDifference(record, expected, cellText);
  if (difference !== null) throw fileChanged(difference);
}

/**
 * Whether the first record of `bytes` (a prefix; a record it cuts is
 * ignored) is still the described header. Tables without one always match.
 */
export async function headerMatches(bytes: Bytes, shape: RowShape, access?: FileAccess): Promise<boolean> {
  if (!shape.header) return true;
  const records = shape.reader.records(bytes, true, { access });
  let skip = recordsBeforeHeader(shape);
  try {
    for await (const batch of records) {
      for (const record of batch) {
        if (skip > 0) {
          skip--;
          continue;
        }
        if (isBlank(record)) return false; // the header was here: the rows above it changed
        return Array.isArray(record) && headerDifference(record, shape.header, shape.reader.cellText) === null;
      }
    }
    return false;
  } catch {
    return false; // unreadable now: describe again, which reports why
  } finally {
    await records.return(undefined);
  }
}

/** Fits one positional record to `width` cells (empty text becomes null later, by type). */
export function fitRecord(record: readonly unknown[], width: number, recordNo: number, reader: RecordReader): TextRow {
  const { cellText } = reader;
  if (!cellText && record.length === width) return record as string[]; // the common case: no copy
  const row: TextRow = new Array(width);
  const n = Math.min(record.length, width);
  for (let i = 0; i < n; i++) row[i] = textOf(record[i], cellText);
  for (let i = n; i < width; i++) row[i] = null;
  for (let i = width; i < record.length; i++) {
    const extra = textOf(record[i], cellText);
    if (extra !== null && extra !== "") {
      throw new AppError(
        reader.malformed.code,
        `Record ${recordNo} (the header is record 1) has ${record.length} fields but the header has ${width}. ${reader.malformed.extraCells}`,
      );
    }
  }
  return row;
}

function objectRow(record: unknown, keys: string[], recordNo: number, reader: RecordReader): TextRow {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    throw new AppError(reader.malformed.code, `Record ${recordNo} is not a ${reader.format} object, but the table's records are objects.`);
  }
  return keys.map((k) => textOf(Reflect.get(record, k), reader.cellText));
}

/** What a whole read dropped at the end of the data (formats/report-layout.ts). */
export interface FooterDropped {
  rows: FooterRow[];
  count: number;
}

export interface RowOptions extends ReadOptions {
  /** Hears what the footer rule dropped, once the rows are read to the end. */
  onFooter?: (dropped: FooterDropped) => void;
}

/**
 * The steps from positional records to data rows, one record at a time:
 * title rows skipped, the header checked, blank lines dropped, each row fitted
 * to the table's width, the footer rule applied. Shared by the text reading
 * (tableRows) and the byte reading (formats/byte-rows.ts).
 */
export class PositionalRows {
  /** The file's row, blank lines counted (as layout reports rows). */
  row = 0;
  /** Records numbered from 0 (blank lines not counted): -1 until the header record. */
  recordNo = -1;
  private skip: number;
  readonly width: number;
  readonly footer: FooterFilter | null;
  readonly perBatch: number;

  constructor(private readonly shape: RowShape) {
    this.width = shape.keys.length;
    this.skip = recordsBeforeHeader(shape);
    this.footer = shape.layout ? new FooterFilter(shape.layout.footer, this.width) : null;
    this.perBatch = batchRows(this.width);
  }

  /** Whether the next data record would be the first after the header (none skipped or checked before it). */
  get ready(): boolean {
    return this.skip === 0 && this.recordNo >= 0;
  }

  /** One record; the rows it releases go to `out` (see `backlogged`). */
  push(record: unknown, out: TextRow[]): void {
    const { reader, header } = this.shape;
    this.row++;
    if (this.skip > 0) {
      this.skip--;
      return;
    }
    if (isBlank(record)) return;
    this.recordNo++;
    if (this.recordNo === 0) {
      if (!Array.isArray(record))
        throw new AppError(
          reader.malformed.code,
          `The first record of the ${reader.format} table is not an array, but the table's records are arrays.`,
        );
      if (header) checkHeader(record, header, reader.cellText);
      return;
    }
    if (!Array.isArray(record))
      throw new AppError(
        reader.malformed.code,
        `Record ${this.recordNo + 1} is not a ${reader.format} array, but the table's first record is a header array.`,
      );
    const cells = fitRecord(record, this.width, this.recordNo + 1, reader);
    if (this.footer) this.footer.push(cells, this.row, out);
    else out.push(cells);
  }

  /**
   * A record known to be a data row as it is (as wide as the table, not
   * blank, not a totals row): true when it passes straight on — counted,
   * nothing held before it — else false, and the caller pushes its text.
   */
  passes(): boolean {
    if (!this.ready || (this.footer && !this.footer.passData())) return false;
    this.row++;
    this.recordNo++;
    return true;
  }

  /** Whether released rows wait (a long run of empty rows): take them with `drain` before the next push. */
  get backlogged(): boolean {
    return this.footer?.backlogged ?? false;
  }

  drain(out: TextRow[]): void {
    this.footer?.drain(out, this.perBatch);
  }

  /** The footer's drops, once every record was pushed. */
  end(onFooter?: (dropped: FooterDropped) => void): void {
    if (this.footer) onFooter?.(this.footer.end());
  }
}

/**
 * Data rows (title rows and header skipped, the footer dropped), each
 * exactly as wide as the columns. `options`: this read's random access
 * (XLSX), whether it checks an upload, who hears about the footer.
 */
export async function* tableRows(bytes: Bytes, shape: RowShape, options: RowOptions = {}): RowBatches {
  const { reader, keys, header } = shape;
  const { onFooter, ...read } = options;
  if (header === null) {
    // Objects (JSON): keyed cells, no header, no layout.
    const perBatch = batchRows(keys.length);
    let recordNo = 0;
    for await (const batch of reader.records(bytes, false, read)) {
      let out: TextRow[] = [];
      for (const record of batch) {
        recordNo++;
        if (out.length >= perBatch) {
          yield out;
          out = [];
        }
        out.push(objectRow(record, keys, recordNo, reader));
      }
      if (out.length > 0) yield out;
    }
    return;
  }
  const rows = new PositionalRows(shape);
  for await (const batch of reader.records(bytes, false, read)) yield* rowsOf(batch, rows);
  rows.end(onFooter);
}

/** The data rows of one batch of positional records, in batches of at most `rows.perBatch`. */
export function* rowsOf(batch: readonly unknown[], rows: PositionalRows): Generator<TextRow[], void, undefined> {
  let out: TextRow[] = [];
  for (const record of batch) {
    // A record is padded to the table's width by push: a wide header over short lines must not make a reader batch's rows at once.
    if (out.length >= rows.perBatch) {
      yield out;
      out = [];
    }
    rows.push(record, out);
    // A long run of empty rows released by a data row: handed out in batches, never made at once.
    while (rows.backlogged) {
      rows.drain(out);
      if (out.length >= rows.perBatch) {
        yield out;
        out = [];
      }
    }
  }
  if (out.length > 0) yield out;
}
