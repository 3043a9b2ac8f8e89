/**
 * Cells of byte records (model.ts ByteRecords) written as JSON straight from
 * the file's bytes: each writer answers exactly what the column's text
 * writer (project.ts cellWritersFor) answers for the cell's text, without
 * making that text when it can. Strings are copied with JSON's escapes,
 * numbers already in JSON form are copied, `DD.MM.YYYY`/`YYYY-MM-DD` dates
 * are reordered byte by byte; any other cell is made text and written by the
 * text writer.
 */
import { cellString, CELL_ESCAPED } from "../formats/byte-records";
import type { ByteRecords, ColumnType, Description } from "../model";
import type { ByteBuilder } from "../streams/byte-builder";
import { numberFormatOf } from "../values/convert";
import { daysInMonth } from "../values/dates";

/** A column's text writer (project.ts CellWriter). */
type CellWriter = (out: ByteBuilder, text: string | null) => void;

export type ByteCellWriter = (out: ByteBuilder, rec: ByteRecords, c: number) => void;

const NULL = new TextEncoder().encode("null");
const QUOTE = 34;
const MINUS = 45;
const DOT = 46;
const SPACE = 32;
const COLON = 58;

/** The digits at i, i+1 as a number, or -1 (values/dates.ts d2). */
function d2(buf: Uint8Array, i: number): number {
  const a = buf[i] - 48;
  const b = buf[i + 1] - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

const UNDECIDED = -1;
const INVALID = 0;
const WRITTEN = 1;

/** values/dates.ts fastDate on the 10 bytes at s, writing `"Y-m-d` (no closing quote) when it reads one. */
function fastDate(out: ByteBuilder, buf: Uint8Array, s: number): number {
  const iso = buf[s + 4] === MINUS && buf[s + 7] === MINUS;
  if (!iso && !(buf[s + 2] === DOT && buf[s + 5] === DOT)) return UNDECIDED;
  const yAt = s + (iso ? 0 : 6);
  const hi = d2(buf, yAt);
  const lo = d2(buf, yAt + 2);
  if (hi < 0 || lo < 0) return UNDECIDED;
  const y = hi * 100 + lo;
  const m = d2(buf, s + (iso ? 5 : 3));
  const d = d2(buf, s + (iso ? 8 : 0));
  if (m < 1 || m > 12 || d < 1 || y < 1 || d > daysInMonth(y, m)) return INVALID;
  out.byte(QUOTE);
  if (buf[s + 4] === MINUS) out.copy(buf, s, s + 10);
  else {
    out.copy(buf, s + 6, s + 10);
    out.byte(MINUS);
    out.copy(buf, s + 3, s + 5);
    out.byte(MINUS);
    out.copy(buf, s, s + 2);
  }
  return WRITTEN;
}

/** values/dates.ts fastDateTime on the 19 bytes at s. */
function fastDateTime(out: ByteBuilder, buf: Uint8Array, s: number): number {
  if (buf[s + 10] !== SPACE || buf[s + 13] !== COLON || buf[s + 16] !== COLON) return UNDECIDED;
  const hh = d2(buf, s + 11);
  const mm = d2(buf, s + 14);
  const ss = d2(buf, s + 17);
  const at = out.length;
  const date = fastDate(out, buf, s);
  if (date === UNDECIDED || hh < 0 || mm < 0 || ss < 0) {
    out.length = at;
    return UNDECIDED;
  }
  if (date === INVALID || hh > 23 || mm > 59 || ss > 59) {
    out.length = at;
    return INVALID;
  }
  out.copy(buf, s + 10, s + 19);
  return WRITTEN;
}

/** The as-is number shapes of project.ts jsonNumberAsIs, on bytes. */
function numberAsIs(buf: Uint8Array, s: number, e: number, fraction: boolean): boolean {
  const n = e - s;
  if (n === 0 || n > 16) return false;
  const neg = buf[s] === MINUS ? 1 : 0;
  let i = s + neg;
  if (i === e) return false;
  const lead = buf[i++];
  if (lead === 48) {
    if (i === e) return true;
  } else if (lead < 49 || lead > 57) return false;
  else while (i < e && buf[i] >= 48 && buf[i] <= 57) i++;
  if (i === e) return n - neg <= 15;
  if (!fraction || buf[i] !== DOT || ++i === e) return false;
  while (i < e && buf[i] >= 48 && buf[i] <= 57) i++;
  return i === e;
}

function byteWriterFor(type: ColumnType, text: CellWriter, fractions: boolean): ByteCellWriter {
  const slow: ByteCellWriter = (out, rec, c) => text(out, cellString(rec, c));
  switch (type) {
    case "string":
      return (out, rec, c) => {
        const s = rec.start[c];
        const e = rec.end[c];
        if (s === e) out.bytes(NULL);
        else out.jsonBytes(rec.buf, s, e, rec.kind[c] === CELL_ESCAPED);
      };
    case "int":
    case "double": {
      const fraction = type === "double" && fractions;
      return (out, rec, c) => {
        const s = rec.start[c];
        const e = rec.end[c];
        if (rec.kind[c] !== CELL_ESCAPED && numberAsIs(rec.buf, s, e, fraction)) out.copy(rec.buf, s, e);
        else slow(out, rec, c);
      };
    }
    case "date":
    case "datetime": {
      const size = type === "date" ? 10 : 19;
      const fast = type === "date" ? fastDate : fastDateTime;
      return (out, rec, c) => {
        const s = rec.start[c];
        if (rec.end[c] - s === size && rec.kind[c] !== CELL_ESCAPED) {
          const done = fast(out, rec.buf, s);
          if (done === WRITTEN) return out.byte(QUOTE);
          if (done === INVALID) return out.bytes(NULL);
        }
        slow(out, rec, c);
      };
    }
  }
}

/** Per column: a byte record's cell → the same JSON its text writer answers. */
export function byteWritersFor(description: Description, textWriters: CellWriter[]): ByteCellWriter[] {
  return description.columns.map((c, i) => byteWriterFor(c.type, textWriters[i], fractionsAsIs(description, i)));
}

/**
 * Whether a number column's text with a `.` fraction that already is JSON
 * (`12.5`) is answered as it is (values/convert.ts emitterFor): only where `.`
 * is the column's decimal point. Integers of at most 15 digits always are.
 */
export function fractionsAsIs(description: Description, i: number): boolean {
  const c = description.columns[i];
  return numberFormatOf({ decimalComma: description.decimalComma, numberFormat: c.numberFormat }).decimal === ".";
}
