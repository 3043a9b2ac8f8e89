/**
 * Data rows of a file read as byte records (model.ts ByteRecords): the same
 * rows tableRows (rows.ts) makes, but a record that is plainly a data row —
 * as wide as the table, after the header, nothing held by the footer rule,
 * and not what a totals or empty row starts with — is handed on as the
 * record itself, for the answer to copy (query/cells.ts). Every other
 * record (title rows, the header, blank lines, short or long records, rows
 * that may be totals, all records after the reader fell back to text) is
 * made text and goes through the PositionalRows steps of formats/rows.ts.
 */
import type { ByteRecords, Bytes, TextRow } from "../model";
import { recordStrings } from "./byte-records";
import { TOTAL_LABELS } from "./report-layout";
import { PositionalRows, type RowOptions, type RowShape, rowsOf } from "./rows";

/** Rows in order, most of them records of `records`, some made text (a title row, a row the footer rule held). */
export interface ByteRowBatch {
  records: ByteRecords;
  /** Per row: the index in `records` of its record's first cell (unused where `texts` has the row). */
  cells: number[];
  /** Per row: the row as text, or null where the row is its record. */
  texts: (TextRow | null)[];
}

/** Batches of text rows, or of byte records with text rows among them. */
export type MixedRowBatches = AsyncGenerator<TextRow[] | ByteRowBatch, void, undefined>;

const utf8 = new TextEncoder();

/**
 * What the first two bytes of a totals label can be (report-layout.ts TOTAL_LABELS,
 * matched in any case): per first byte whether some label starts with it,
 * and the pairs of first and second byte. A label's initial is one letter in
 * either case; after an ASCII initial comes the second letter in either case
 * (or, as case folding goes beyond ASCII, any byte from 0x80).
 */
const LABEL_LEADS = new Uint8Array(256);
const LABEL_PAIRS = new Set<number>();
for (const label of TOTAL_LABELS) {
  for (const initial of [label[0], label[0].toUpperCase()]) {
    const b = utf8.encode(initial);
    LABEL_LEADS[b[0]] = b.length === 1 ? 1 : 2;
    if (b.length > 1) LABEL_PAIRS.add((b[0] << 8) | b[1]);
    else for (const second of [label[1], label[1].toUpperCase()]) LABEL_PAIRS.add((b[0] << 8) | utf8.encode(second)[0]);
  }
}
const ASCII_LEAD = 1;

/**
 * Whether a record's first cell rules out a totals row and an empty row
 * (report-layout.ts rowKind): it starts with a byte that is not blank (nor the
 * first byte of U+00A0 or U+202F, which count as blank), and not the start
 * of a totals label as far as its first two bytes tell. False only sends the
 * record the text way, so this errs that way (test/values/twins.test.ts
 * holds it to report-layout.ts isTotalsRow).
 */
export function plainlyData(rec: ByteRecords, c: number): boolean {
  const s = rec.start[c];
  const e = rec.end[c];
  if (e === s) return false;
  const buf = rec.buf;
  const b0 = buf[s];
  if (b0 <= 0x20 || b0 === 0xc2 || b0 === 0xe2) return false;
  const lead = LABEL_LEADS[b0];
  if (lead === 0) return true;
  if (e - s < 2) return false;
  const b1 = buf[s + 1];
  if (lead === ASCII_LEAD && b1 >= 0x80) return false;
  return !LABEL_PAIRS.has((b0 << 8) | b1);
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

async function* byteRows(
  source: ReturnType<NonNullable<RowShape["reader"]["byteRecords"]>>,
  shape: RowShape,
  options: Pick<RowOptions, "onFooter">,
): MixedRowBatches {
  const rows = new PositionalRows(shape);
  const width = rows.width;
  for await (const batch of source) {
    if (Array.isArray(batch)) {
      yield* rowsOf(batch, rows); // the reader fell back to text: the same steps as tableRows
      continue;
    }
    const rec = batch;
    let cells: number[] = [];
    let texts: (TextRow | null)[] = [];
    let made = 0; // text rows in this batch
    const released: TextRow[] = [];
    const first = rec.first;
    for (let r = 0; r < rec.count; r++) {
      const c0 = first[r];
      const n = first[r + 1] - c0;
      if (n === width && !(n === 1 && rec.end[c0] === rec.start[c0]) && plainlyData(rec, c0) && rows.passes()) {
        cells.push(c0);
        texts.push(null);
        continue;
      }
      const record = n === 1 && rec.end[c0] === rec.start[c0] ? [] : recordStrings(rec, r);
      rows.push(record, released);
      for (;;) {
        for (const row of released) {
          cells.push(0);
          texts.push(row);
          made++;
        }
        released.length = 0;
        // Released text rows are handed on in batches, never made at once (a long run of empty rows).
        if (made >= rows.perBatch) {
          yield { records: rec, cells, texts };
          cells = [];
          texts = [];
          made = 0;
        }
        if (!rows.backlogged) break;
        rows.drain(released);
      }
    }
    if (cells.length > 0) yield { records: rec, cells, texts };
  }
  rows.end(options.onFooter);
}
