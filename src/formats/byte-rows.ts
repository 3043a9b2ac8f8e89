/**
 * Data rows of a file read as byte records (model.ts ByteRecords): the same
 * rows tableRows (rows.ts) makes, but a record that is plainly a data row —
 * as wide as the table, after the header, nothing held by the footer rule,
 * and not what a totals or empty row starts with — is handed on as the
 * record itself, for the answer to copy (query/byte-cells.ts). Every other
 * record (title rows, the header, blank lines, short or long records, rows
 * that may be totals, all records after the reader fell back to text) is
 * made text and goes through the PositionalRows steps of formats/rows.ts.
 */
import type { ByteRecords, Bytes, TextRow } from "../model";
import { recordStrings } from "./byte-records";
import { PositionalRows, rowsOf, type RowOptions, type RowShape } from "./rows";

export interface ByteRowBatch {
  records: ByteRecords;
  /** The rows in order: r >= 0 is record r of `records`; r < 0 is the text row `texts[-1 - r]`. */
  order: number[];
  texts: TextRow[];
}

/** Batches of text rows, or of byte records with text rows among them. */
export type MixedRowBatches = AsyncGenerator<TextRow[] | ByteRowBatch, void, undefined>;

export const isByteBatch = (batch: TextRow[] | ByteRowBatch): batch is ByteRowBatch => !Array.isArray(batch);

const UPPER_T = 0x54; // T
const UPPER_G = 0x47; // G
const UPPER_S = 0x53; // S
const UPPER_R = 0x52; // R

/**
 * Whether a record's first cell rules out a totals row and an empty row
 * (report-layout.ts rowKind): it starts with a byte that is not blank (nor the
 * first byte of U+00A0 or U+202F, which count as blank), and not the start
 * of a totals label (итого, всего, total, grand total, gesamt, summe, suma,
 * razem) as far as its first two letters tell. False only sends the record
 * the text way, so this errs that way.
 */
function plainlyData(rec: ByteRecords, c: number): boolean {
  const s = rec.start[c];
  if (rec.end[c] === s) return false;
  const buf = rec.buf;
  const b0 = buf[s];
  if (b0 <= 0x20 || b0 === 0xc2 || b0 === 0xe2) return false;
  const b1 = s + 1 < rec.end[c] ? buf[s + 1] : 0;
  if (b0 === 0xd0) return b1 !== 0x98 && b1 !== 0xb8 && b1 !== 0x92 && b1 !== 0xb2; // И и В в
  const upper = b0 & 0xdf; // ASCII letters, either case
  if (upper !== UPPER_T && upper !== UPPER_G && upper !== UPPER_S && upper !== UPPER_R) return true;
  if (b1 >= 0x80 || b1 === 0) return false;
  const second = b1 | 0x20;
  if (upper === UPPER_T) return second !== 0x6f; // o
  if (upper === UPPER_G) return second !== 0x72 && second !== 0x65; // r, e
  if (upper === UPPER_S) return second !== 0x75; // u
  return second !== 0x61; // a
}

/**
 * Data rows of `bytes` read as byte records, or null when the table's reader
 * has none for this file (only UTF-8 CSV has) or its footer rule holds every
 * row back (the sidecar's footerRows).
 */
export function tableByteRows(bytes: Bytes, shape: RowShape, options: Pick<RowOptions, "onFooter"> = {}): MixedRowBatches | null {
  const { reader, header, layout } = shape;
  if (!reader.byteRecords || header === null) return null;
  if (layout?.footer.kind === "count" && layout.footer.rows > 0) return null;
  return byteRows(reader.byteRecords(bytes), shape, options);
}

async function* byteRows(source: ReturnType<NonNullable<RowShape["reader"]["byteRecords"]>>, shape: RowShape, options: Pick<RowOptions, "onFooter">): MixedRowBatches {
  const rows = new PositionalRows(shape);
  const width = rows.width;
  for await (const batch of source) {
    if (Array.isArray(batch)) {
      yield* rowsOf(batch, rows); // the reader fell back to text: the same steps as tableRows
      continue;
    }
    const rec = batch;
    let order: number[] = [];
    let texts: TextRow[] = [];
    const released: TextRow[] = [];
    const first = rec.first;
    for (let r = 0; r < rec.count; r++) {
      const c0 = first[r];
      const n = first[r + 1] - c0;
      if (n === width && !(n === 1 && rec.end[c0] === rec.start[c0]) && plainlyData(rec, c0) && rows.passes()) {
        order.push(r);
        continue;
      }
      const record = n === 1 && rec.end[c0] === rec.start[c0] ? [] : recordStrings(rec, r);
      rows.push(record, released);
      for (;;) {
        for (const row of released) {
          order.push(-1 - texts.length);
          texts.push(row);
        }
        released.length = 0;
        // Released text rows are handed on in batches, never made at once (a long run of empty rows).
        if (texts.length >= rows.perBatch) {
          yield { records: rec, order, texts };
          order = [];
          texts = [];
        }
        if (!rows.backlogged) break;
        rows.drain(released);
      }
    }
    if (order.length > 0) yield { records: rec, order, texts };
  }
  rows.end(options.onFooter);
}
