import { COLUMN_TYPES, type ColumnType, DATE_FORMATS, type DateFormat, type SlashOrder } from "../model";
/** Readings of column types and date formats (the types themselves are in model.ts). */

/** Types a sidecar may declare: the column types plus synonyms. */
export const DECLARED_TYPES = [...COLUMN_TYPES, "money"] as const;
export const declaredType = (t: (typeof DECLARED_TYPES)[number]): ColumnType => (t === "money" ? "double" : t);

// Other spellings people type into the source's date_format setting (the
// portal's UI makes it mandatory): Russian letters, PHP's date() letters.
// Matched after upper-casing and mapping Д→D, М→M, Г→Y.
const DATE_FORMAT_SPELLINGS: Record<string, DateFormat> = {
  "D.M.Y": "DD.MM.YYYY",
  "M/D/Y": "MM/DD/YYYY",
  "D/M/Y": "DD/MM/YYYY",
  "Y-M-D": "YYYY-MM-DD",
};

/** What the messages list as accepted. */
export const DATE_FORMAT_HELP =
  "DD.MM.YYYY (also ДД.ММ.ГГГГ, d.m.Y), MM/DD/YYYY (ММ/ДД/ГГГГ, m/d/Y), DD/MM/YYYY (ДД/ММ/ГГГГ, d/m/Y), YYYY-MM-DD (ГГГГ-ММ-ДД, Y-m-d), in any letter case";

/**
 * The one reading of a date format setting, used by /check, /data, the
 * DEFAULT_DATE_FORMAT variable, sidecars and the setup script. `undefined`
 * for an empty setting (the default applies), `null` for one it does not know.
 */
export function normaliseDateFormat(input: string | undefined): DateFormat | undefined | null {
  const s = (input ?? "").trim().toUpperCase().replace(/Д/g, "D").replace(/М/g, "M").replace(/Г/g, "Y");
  if (s === "") return undefined;
  const known = DATE_FORMATS.find((f) => f === s);
  return known ?? DATE_FORMAT_SPELLINGS[s] ?? null;
}

export function slashOrderOf(format: DateFormat | undefined, fallback: SlashOrder): SlashOrder {
  if (format === "MM/DD/YYYY") return "mdy";
  if (format === "DD/MM/YYYY") return "dmy";
  return fallback;
}

export const isNumericType = (t: ColumnType) => t === "int" || t === "double";
