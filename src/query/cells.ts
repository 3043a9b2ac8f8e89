/**
 * A cell written as its JSON in the answer, from text (any reading) or
 * straight from a byte record's bytes (UTF-8 CSV). The byte writers are twins
 * of the text writers: each answers exactly what its column's text writer
 * answers for the cell's text, without making that text when it can. Strings
 * are copied with JSON's escapes, numbers already in JSON form are copied,
 * `DD.MM.YYYY`/`YYYY-MM-DD` dates are reordered byte by byte; any other cell
 * is made text and written by the text writer. test/values/twins.test.ts
 * holds each byte writer to its text writer.
 */
import { CELL_ESCAPED, cellString } from "../formats/byte-records";
import type { ByteRecords, Cell, ColumnType, Description } from "../model";
import type { ByteBuilder } from "../streams/byte-builder";
import { type Converter, cellToJson, type Emitter, numberFormatOf } from "../values/convert";
import { DATE_INVALID, DATE_ISO, DATE_UNDECIDED, fastDateAt, fastDateTimeAt } from "../values/dates";
import { jsonNumberAsIs, jsonNumberAsIsAt } from "../values/numbers";
import { convertersFor, emittersFor } from "./pipeline";

/** Writes one cell's text as JSON, exactly as the column's emitter would (values/convert.ts). */
export type CellWriter = (out: ByteBuilder, text: string | null) => void;

/** Writes cell `c` of byte records as JSON, exactly as the column's CellWriter writes its text. */
export type ByteCellWriter = (out: ByteBuilder, rec: ByteRecords, c: number) => void;

const NULL = new TextEncoder().encode("null");
const QUOTE = 34;
const MINUS = 45;

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

/** `"Y-m-d` (no closing quote) of the date whose bytes at `s` fastDateAt read as `kind`. */
function writeDate(out: ByteBuilder, buf: Uint8Array, s: number, kind: number): void {
  out.byte(QUOTE);
  if (kind === DATE_ISO) out.copy(buf, s, s + 10);
  else {
    out.copy(buf, s + 6, s + 10);
    out.byte(MINUS);
    out.copy(buf, s + 3, s + 5);
    out.byte(MINUS);
    out.copy(buf, s, s + 2);
  }
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
        if (rec.kind[c] !== CELL_ESCAPED && jsonNumberAsIsAt(rec.buf, s, e, fraction)) out.copy(rec.buf, s, e);
        else slow(out, rec, c);
      };
    }
    case "date":
    case "datetime": {
      const size = type === "date" ? 10 : 19;
      const read = type === "date" ? fastDateAt : fastDateTimeAt;
      return (out, rec, c) => {
        const s = rec.start[c];
        if (rec.end[c] - s === size && rec.kind[c] !== CELL_ESCAPED) {
          const kind = read(rec.buf, s);
          if (kind === DATE_INVALID) return out.bytes(NULL);
          if (kind !== DATE_UNDECIDED) {
            writeDate(out, rec.buf, s, kind);
            if (size === 19) out.copy(rec.buf, s + 10, s + 19);
            return out.byte(QUOTE);
          }
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
