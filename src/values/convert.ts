/**
 * Text → typed cell for a column, and typed cell → JSON text for the writer.
 * A value that does not read as its column's type becomes null: one odd cell
 * must never fail a whole report.
 */
import { parseDate, parseDateTime } from "./dates";
import { parseFormatted, parseInteger, parseNumber } from "./numbers";
import type { Cell, ColumnType, NumberFormat, SlashOrder } from "../model";

export interface ValueOptions {
  decimalComma: boolean;
  slashOrder: SlashOrder;
  /** The column's number convention (catalog/infer.ts); without it, plain numbers and `decimalComma`. */
  numberFormat?: NumberFormat;
}

const asInteger = (n: number | null) => (n !== null && Number.isInteger(n) ? n : null);

export type Converter = (text: string | null) => Cell;

export function converterFor(type: ColumnType, opts: ValueOptions): Converter {
  const { decimalComma, slashOrder, numberFormat: nf } = opts;
  switch (type) {
    case "int":
      if (nf) return (t) => (t === null || t === "" ? null : asInteger(parseFormatted(t, nf)));
      return (t) => (t === null || t === "" ? null : parseInteger(t, decimalComma));
    case "double":
      if (nf) return (t) => (t === null || t === "" ? null : parseFormatted(t, nf));
      return (t) => (t === null || t === "" ? null : parseNumber(t, decimalComma));
    case "date":
      return (t) => (t === null || t === "" ? null : parseDate(t, slashOrder));
    case "datetime":
      return (t) => (t === null || t === "" ? null : parseDateTime(t, slashOrder));
    case "string":
      return (t) => (t === null || t === "" ? null : t);
  }
}

// Number text that is already valid JSON and means the same number.
const JSON_INT = /^-?(?:0|[1-9]\d{0,14})$/;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;

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
      // Where `.` groups thousands (`1.234` is 1234), no text passes as it is.
      if (opts.numberFormat?.group === ".") return (t) => cellToJson(convert(t));
      return (t) => (t !== null && t.length < 17 && JSON_NUMBER.test(t) ? t : cellToJson(convert(t)));
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
