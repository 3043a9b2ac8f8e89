/** Column types as the portal knows them (`timezone` is deliberately absent). */
export const COLUMN_TYPES = ["int", "double", "money", "date", "datetime", "string"] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** A cell after conversion: numbers for int/double/money, canonical text for dates. */
export type Cell = number | string | null;

/** How `a/b/yyyy` is read: day first or month first. Dots are always day first. */
export type SlashOrder = "dmy" | "mdy";

/** Date formats a file or a portal may use; slashes decide the SlashOrder. */
export const DATE_FORMATS = ["DD.MM.YYYY", "MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD"] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

export function slashOrderOf(format: DateFormat | undefined, fallback: SlashOrder): SlashOrder {
  if (format === "MM/DD/YYYY") return "mdy";
  if (format === "DD/MM/YYYY") return "dmy";
  return fallback;
}

export const isNumericType = (t: ColumnType) => t === "int" || t === "double" || t === "money";
