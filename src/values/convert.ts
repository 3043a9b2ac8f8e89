/**
 * Text → typed cell for a column, and typed cell → JSON text for the writer.
 * A value that does not read as its column's type becomes null: one odd cell
 * must never fail a whole report.
 */

import type { Cell, ColumnType, NumberFormat, SlashOrder } from "../model";
import { parseDate, parseDateTime } from "./dates";
import { readNumber } from "./numbers";

export interface ValueOptions {
  decimalComma: boolean;
  slashOrder: SlashOrder;
  /** The column's number convention (catalog/infer.ts); without it, the table's decimal separator and no groups but spaces. */
  numberFormat?: NumberFormat;
  /** A sidecar declares the column's type: numbers also as `007` and `1e5` (values/numbers.ts readNumber). */
  declared?: boolean;
}

/** The one convention a numeric column's every cell is read by. */
export function numberFormatOf(opts: Pick<ValueOptions, "decimalComma" | "numberFormat">): NumberFormat {
  return opts.numberFormat ?? (opts.decimalComma ? { decimal: ",", group: " " } : { decimal: ".", group: "" });
}

const asInteger = (n: number | null) => (n !== null && Number.isInteger(n) ? n : null);

export type Converter = (text: string | null) => Cell;

export function converterFor(type: ColumnType, opts: ValueOptions): Converter {
  const { slashOrder } = opts;
  const nf = numberFormatOf(opts);
  const declared = opts.declared === true;
  switch (type) {
    case "int":
      return (t) => (t === null || t === "" ? null : asInteger(readNumber(t, nf, declared)));
    case "double":
      return (t) => (t === null || t === "" ? null : readNumber(t, nf, declared));
    case "date":
      return (t) => (t === null || t === "" ? null : parseDate(t, slashOrder));
    case "datetime":
      return (t) => (t === null || t === "" ? null : parseDateTime(t, slashOrder));
    case "string":
      return (t) => (t === null || t === "" ? null : t);
  }
}

// Number text that is already valid JSON and means the same number under every
// convention's rules: an integer of at most 15 digits, no leading zero.
const JSON_INT = /^-?(?:0|[1-9]\d{0,14})$/;
// With a `.` fraction: only where `.` is the column's decimal point.
const JSON_FRACTION = /^-?(?:0|[1-9]\d*)\.\d+$/;

/** Text → JSON fragment for the output, for columns the filter does not read. */
export type Emitter = (text: string | null) => string;

/**
 * The output path without the typed detour where the text already is valid
 * JSON (`42`, `10.5`, an ISO date): numbers and dates are written as they
 * came; everything else goes through the converter.
 */
export function emitterFor(type: ColumnType, opts: ValueOptions): Emitter {
  const convert = converterFor(type, opts);
  switch (type) {
    case "int":
      return (t) => (t !== null && JSON_INT.test(t) ? t : cellToJson(convert(t)));
    case "double":
      // Where `.` is no decimal point (`1.234` is 1234, or a misfit), only integers pass as they are.
      if (numberFormatOf(opts).decimal !== ".") return (t) => (t !== null && JSON_INT.test(t) ? t : cellToJson(convert(t)));
      return (t) => (t !== null && t.length < 17 && (JSON_INT.test(t) || JSON_FRACTION.test(t)) ? t : cellToJson(convert(t)));
    case "string":
      return (t) => (t === null || t === "" ? "null" : JSON.stringify(t));
    case "date":
    case "datetime":
      // Canonical dates hold no character JSON must escape.
      return (t) => {
        const v = convert(t);
        return v === null ? "null" : `"${v}"`;
      };
  }
}

export function cellToJson(cell: Cell): string {
  if (cell === null) return "null";
  if (typeof cell === "number") return String(cell);
  return JSON.stringify(cell);
}
