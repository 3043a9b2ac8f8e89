/**
 * Cell values → the canonical text the rest of the pipeline reads: numbers
 * as JS number text, dates `Y-m-d`, datetimes `Y-m-d H:i:s`, times `H:i:s`.
 * A number is a date when its cell style's number format is a date format
 * (built-in ids, or a custom format code with date letters outside quotes,
 * escapes and brackets); see docs/design/xlsx-and-exports.md §5.
 */

/** How a cell style shows a number. */
export const NumberKind = { Number: 0, Date: 1, DateTime: 2, Time: 3 } as const;
export type NumberKind = (typeof NumberKind)[keyof typeof NumberKind];

/** The built-in number formats that are dates or times (ECMA-376 §18.8.30; 27–36 and 50–58 are CJK dates). */
export function builtinKind(id: number): NumberKind {
  if ((id >= 14 && id <= 17) || (id >= 27 && id <= 36) || (id >= 50 && id <= 58)) return NumberKind.Date;
  if (id === 22) return NumberKind.DateTime;
  if ((id >= 18 && id <= 21) || (id >= 45 && id <= 47)) return NumberKind.Time;
  return NumberKind.Number;
}

/** The first section of a format code (before an unquoted `;`), with quoted text, escapes, padding and brackets removed (elapsed `[h]`/`[m]`/`[s]` kept as h/m/s). */
function formatLetters(code: string): string {
  let out = "";
  for (let i = 0; i < code.length; i++) {
    const ch = code[i];
    if (ch === ";") break;
    if (ch === '"') {
      const end = code.indexOf('"', i + 1);
      i = end < 0 ? code.length : end;
    } else if (ch === "\\" || ch === "_" || ch === "*") {
      i++; // an escaped character, or the character a padding directive repeats
    } else if (ch === "[") {
      const end = code.indexOf("]", i + 1);
      const inside = code.slice(i + 1, end < 0 ? code.length : end);
      if (/^(?:h+|m+|s+)$/i.test(inside)) out += inside[0];
      i = end < 0 ? code.length : end;
    } else out += ch;
  }
  return out.toLowerCase();
}

export function formatKind(code: string): NumberKind {
  if (code.trim().toLowerCase() === "general") return NumberKind.Number;
  const letters = formatLetters(code);
  const date = /[dy]/.test(letters);
  const time = /[hs]/.test(letters);
  if (date && time) return NumberKind.DateTime;
  if (date) return NumberKind.Date;
  if (time) return NumberKind.Time;
  // Months alone (`mmm yy` has a y; `mmmm` alone is a month name): a date.
  return /m/.test(letters.replace(/am\/pm|a\/p/g, "")) ? NumberKind.Date : NumberKind.Number;
}

const SECONDS_PER_DAY = 86400;
const MS_PER_DAY = SECONDS_PER_DAY * 1000;
// Days from 1970-01-01 back to each system's day 0.
const EPOCH_1900 = -25569; // 1899-12-30: serial 61 = 1900-03-01
const EPOCH_1900_EARLY = -25568; // 1899-12-31: serial 1 = 1900-01-01 (before Excel's fictitious 1900-02-29)
const EPOCH_1904 = -24107; // 1904-01-01 = serial 0
const MAX_DAY_1970 = 2932896; // 9999-12-31

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

function clock(seconds: number): string {
  return `${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${pad2(seconds % 60)}`;
}

/**
 * A serial as date text, or null when no date has it: negative, Excel's
 * fictitious 1900-02-29 (serial 60), the 1900 system's day 0, or past 9999.
 * Seconds are rounded (45314.99998842592 is 23:59:59, not 23:59:58).
 */
export function serialText(serial: number, kind: NumberKind, date1904: boolean): string | null {
  if (!Number.isFinite(serial) || serial < 0) return null;
  const total = Math.round(serial * SECONDS_PER_DAY);
  const days = Math.floor(total / SECONDS_PER_DAY);
  const seconds = total - days * SECONDS_PER_DAY;
  if (kind === NumberKind.Time) return clock(seconds);
  let day1970: number;
  if (date1904) day1970 = EPOCH_1904 + days;
  else if (days === 0 || days === 60) return null;
  else day1970 = (days < 60 ? EPOCH_1900_EARLY : EPOCH_1900) + days;
  if (day1970 > MAX_DAY_1970) return null;
  const date = new Date(day1970 * MS_PER_DAY).toISOString().slice(0, 10);
  return kind === NumberKind.DateTime || seconds !== 0 ? `${date} ${clock(seconds)}` : date;
}

/** A number as the text a CSV would hold: JS number text, without exponents for usual magnitudes. */
export function numberText(n: number): string {
  const s = String(n);
  if (!s.includes("e")) return s;
  if (Math.abs(n) < 1) return n.toFixed(20).replace(/\.?0+$/, "");
  return s; // ≥ 1e21: no plain form; served as text
}

const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** A `t="d"` cell (ISO 8601 text) as date or datetime text; other text as it is. */
export function isoText(text: string): string {
  const m = ISO.exec(text.trim());
  if (!m) return text;
  if (m[2] === undefined) return m[1];
  return `${m[1]} ${m[2]}:${m[3]}:${m[4] ?? "00"}`;
}

const ESCAPE = /_x([0-9A-Fa-f]{4})_/g;

/** Excel's `_xHHHH_` escapes in string values (`_x000D_` is CR; `_x005F_` escapes the underscore itself). */
export function unescapeText(text: string): string {
  return text.includes("_x") ? text.replace(ESCAPE, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))) : text;
}
