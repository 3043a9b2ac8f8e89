/**
 * Cells of byte records (model.ts ByteRecords) as text, for the few that
 * need it: a header to check, a row that may be a totals row, a cell a
 * filter compares or a number written unusually. Every other cell is copied
 * as bytes (query/cells.ts).
 */
import type { ByteRecords } from "../model";

/** A cell's kinds: its bytes as they are; quoted; quoted with `""` standing for `"`. */
export const CELL_PLAIN = 0;
export const CELL_QUOTED = 1;
export const CELL_ESCAPED = 2;

// The bytes are valid UTF-8 (the reader checked), so the decoder never replaces any.
const decoder = new TextDecoder();

/** Text of cell `c`. */
export function cellString(rec: ByteRecords, c: number): string {
  const { buf } = rec;
  const s = rec.start[c];
  const e = rec.end[c];
  let text: string;
  // Short ASCII cells (dates, codes, numbers): char by char is cheaper than a call into the decoder.
  if (e - s <= 24) {
    text = "";
    let i = s;
    for (; i < e; i++) {
      const b = buf[i];
      if (b >= 0x80) break;
      text += String.fromCharCode(b);
    }
    if (i < e) text = decoder.decode(buf.subarray(s, e));
  } else text = decoder.decode(buf.subarray(s, e));
  return rec.kind[c] === CELL_ESCAPED ? text.replaceAll('""', '"') : text;
}

/** Record r's cells as text: what the text reader would have made of it. */
export function recordStrings(rec: ByteRecords, r: number): string[] {
  const out: string[] = [];
  for (let c = rec.first[r]; c < rec.first[r + 1]; c++) out.push(cellString(rec, c));
  return out;
}
