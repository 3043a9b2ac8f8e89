/**
 * Records of any format → rows of cell text aligned with the table's columns.
 * This is the one place that knows where a header is and how wide a row is:
 * short rows are padded with empty cells (exports often drop trailing empty
 * cells), a row with extra non-empty cells is an error — guessing which cell
 * belongs where would put wrong numbers into a report.
 */
import { AppError } from "../http/errors";
import type { Bytes } from "../source/bytes";
import { csvRecords } from "./csv";
import { decodeText } from "./decode";
import { jsonCellText, jsonElements } from "./json";
import type { Description, Layout, TextRow } from "../model";

export type RowBatches = AsyncGenerator<TextRow[], void, undefined>;

/** Raw records (CSV: string[]; JSON: each array element or line), header included. */
export function rawRecords(bytes: Bytes, layout: Layout, truncated = false): AsyncGenerator<unknown[], void, undefined> {
  if (layout.format === "csv") return csvRecords(decodeText(bytes, layout.encoding), layout, { truncated });
  return jsonElements(bytes, layout.shape, { truncated });
}

/** What reading rows needs of a description. */
export type RowShape = Pick<Description, "layout" | "keys" | "header">;

/** The header record of a read differs from the described one. */
export function fileChanged(detail: string): AppError {
  return new AppError("FILE_CHANGED", `The file's header changed since it was described (${detail}); retry: the next request describes the file again.`);
}

/** How a header record differs from the described one, or null when it does not. */
function headerDifference(record: readonly unknown[], expected: TextRow, fromJson: boolean): string | null {
  const n = Math.max(record.length, expected.length);
  for (let i = 0; i < n; i++) {
    const got = i < record.length ? (fromJson ? jsonCellText(record[i]) : (record[i] as string)) : undefined;
    const want = i < expected.length ? expected[i] : undefined;
    if (got !== want) {
      const show = (v: string | null | undefined) => (v === undefined ? "absent" : JSON.stringify(v));
      return `column ${i + 1} is now ${show(got)}, it was ${show(want)}`;
    }
  }
  return null;
}

function checkHeader(record: readonly unknown[], expected: TextRow, fromJson: boolean): void {
  const difference = headerDifference(record, expected, fromJson);
  if (difference !== null) throw fileChanged(difference);
}

/**
 * Whether the first record of `bytes` (a prefix; a record it cuts is
 * ignored) is still the described header. Tables without one always match.
 */
export async function headerMatches(bytes: Bytes, shape: RowShape): Promise<boolean> {
  if (!shape.header) return true;
  const records = rawRecords(bytes, shape.layout, true);
  try {
    for await (const batch of records) {
      if (batch.length === 0) continue;
      const first = batch[0];
      return Array.isArray(first) && headerDifference(first, shape.header, shape.layout.format === "json") === null;
    }
    return false;
  } catch {
    return false; // unreadable now: describe again, which reports why
  } finally {
    await records.return(undefined);
  }
}

function tooWide(recordNo: number, width: number, expected: number, fromJson: boolean): Error {
  return fromJson
    ? new AppError("JSON_MALFORMED", `Record ${recordNo} (the header array is record 1) has ${width} values but the header has ${expected}. Check that record for an extra value or a missing header name.`)
    : new AppError("CSV_MALFORMED", `Record ${recordNo} (the header is record 1) has ${width} fields but the header has ${expected}. Check that record for an unquoted delimiter or a missing header name.`);
}

/** Fits one positional record to `width` cells (empty text becomes null later, by type). */
export function fitRecord(record: readonly unknown[], width: number, recordNo: number, fromJson: boolean): TextRow {
  if (!fromJson && record.length === width) return record as string[]; // the common case: no copy
  const row: TextRow = new Array(width);
  const n = Math.min(record.length, width);
  for (let i = 0; i < n; i++) row[i] = fromJson ? jsonCellText(record[i]) : (record[i] as string);
  for (let i = n; i < width; i++) row[i] = null;
  for (let i = width; i < record.length; i++) {
    const extra = fromJson ? jsonCellText(record[i]) : (record[i] as string);
    if (extra !== null && extra !== "") throw tooWide(recordNo, record.length, width, fromJson);
  }
  return row;
}

function objectRow(record: unknown, keys: string[], recordNo: number): TextRow {
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    throw new AppError("JSON_MALFORMED", `Record ${recordNo} is not a JSON object, but the table's records are objects.`);
  }
  const obj = record as Record<string, unknown>;
  return keys.map((k) => jsonCellText(obj[k]));
}

/** Data rows (header skipped), each exactly as wide as the columns. */
export async function* tableRows(bytes: Bytes, shape: RowShape): RowBatches {
  const { layout, keys, header } = shape;
  const width = keys.length;
  const objects = layout.format === "json" && layout.records === "objects";
  const fromJson = layout.format === "json";
  let recordNo = objects ? 0 : -1; // records numbered from 1; positional files have a header record
  for await (const batch of rawRecords(bytes, layout)) {
    const out: TextRow[] = [];
    for (const record of batch) {
      recordNo++;
      if (recordNo === 0) {
        if (!Array.isArray(record)) throw new AppError("JSON_MALFORMED", "The first record of the JSON table is not an array, but the table's records are arrays.");
        if (header) checkHeader(record, header, fromJson);
        continue;
      }
      if (objects) out.push(objectRow(record, keys, recordNo));
      else {
        if (!Array.isArray(record)) throw new AppError("JSON_MALFORMED", `Record ${recordNo + 1} is not a JSON array, but the table's first record is a header array.`);
        out.push(fitRecord(record, width, recordNo + 1, fromJson));
      }
    }
    if (out.length > 0) yield out;
  }
}
