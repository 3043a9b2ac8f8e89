/**
 * Text → typed cell for a column, and typed cell → JSON text for the writer.
 * A value that does not read as its column's type becomes null: one odd cell
 * must never fail a whole report.
 */
import { parseDate, parseDateTime } from "./dates";
import { parseInteger, parseNumber } from "./numbers";
import type { Cell, ColumnType, SlashOrder } from "./types";

export interface ValueOptions {
  decimalComma: boolean;
  slashOrder: SlashOrder;
}

export type Converter = (text: string | null) => Cell;

export function converterFor(type: ColumnType, opts: ValueOptions): Converter {
  const { decimalComma, slashOrder } = opts;
  switch (type) {
    case "int":
      return (t) => (t === null || t === "" ? null : parseInteger(t, decimalComma));
    case "double":
    case "money":
      return (t) => (t === null || t === "" ? null : parseNumber(t, decimalComma));
    case "date":
      return (t) => (t === null || t === "" ? null : parseDate(t, slashOrder));
    case "datetime":
      return (t) => (t === null || t === "" ? null : parseDateTime(t, slashOrder));
    case "string":
      return (t) => (t === null || t === "" ? null : t);
  }
}

export function cellToJson(cell: Cell): string {
  if (cell === null) return "null";
  if (typeof cell === "number") return String(cell);
  return JSON.stringify(cell);
}
