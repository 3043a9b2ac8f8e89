import type { SlashOrder } from "../model";

/**
 * Date and datetime recognition, shared by inference, output and filters.
 * Canonical forms are the portal's output formats, `Y-m-d` and `Y-m-d H:i:s`:
 * zero-padded, so they also compare correctly as plain strings.
 *
 * Accepted: `2024-01-31`, `31.01.2024`, `31/01/2024` or `01/31/2024` (by the
 * slash order), each optionally followed by ` ` or `T`, `H:MM[:SS[.fff]]`,
 * an optional `am`/`pm`, and an optional `Z` / `±HH:MM` offset. The offset is
 * dropped and the wall-clock time kept: the portal's datetime has no zone.
 */

const DATE_TIME =
  /^(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})([./])(\d{1,2})\5(\d{4}))(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(?:\s*([aApP])\.?[mM]\.?)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$/;

export interface DateParts {
  y: number;
  m: number;
  d: number;
  hh: number;
  mm: number;
  ss: number;
  hasTime: boolean;
}

export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/**
 * The longest date the portal or a file writes is about 40 characters
 * (`31.12.9999 11:59:59.123456789 p.m. +03:00`). Longer text is not a date, and
 * the bound keeps DATE_TIME's optional parts (`[T ]+`, `\s*`), which can
 * overlap on a run of spaces, from ever seeing more than a few dozen characters.
 */
export const MAX_DATE_CHARS = 48;

export function parseDateParts(text: string, order: SlashOrder): DateParts | null {
  if (text.length > 4 * MAX_DATE_CHARS) return null;
  const t = text.trim();
  if (t.length > MAX_DATE_CHARS) return null;
  const r = DATE_TIME.exec(t);
  if (!r) return null;
  let y: number, m: number, d: number;
  if (r[1] !== undefined) {
    y = +r[1];
    m = +r[2];
    d = +r[3];
  } else {
    y = +r[7];
    const a = +r[4];
    const b = +r[6];
    const monthFirst = r[5] === "/" && order === "mdy";
    m = monthFirst ? a : b;
    d = monthFirst ? b : a;
  }
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null;
  const hasTime = r[8] !== undefined;
  let hh = hasTime ? +r[8] : 0;
  const mm = hasTime ? +r[9] : 0;
  const ss = r[10] !== undefined ? +r[10] : 0;
  if (r[11] !== undefined) {
    // 12-hour clock: 12:xx am is just after midnight, 12:xx pm just after noon.
    if (hh < 1 || hh > 12) return null;
    const pm = r[11] === "p" || r[11] === "P";
    hh = (hh % 12) + (pm ? 12 : 0);
  }
  if (hh > 23 || mm > 59 || ss > 59) return null;
  return { y, m, d, hh, mm, ss, hasTime };
}

const p2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const p4 = (n: number) => String(n).padStart(4, "0");

export const formatDate = (p: DateParts) => `${p4(p.y)}-${p2(p.m)}-${p2(p.d)}`;
export const formatDateTime = (p: DateParts) => `${formatDate(p)} ${p2(p.hh)}:${p2(p.mm)}:${p2(p.ss)}`;

// Fast paths for the shapes that make up nearly every real file, checked by
// character codes: `YYYY-MM-DD`, `DD.MM.YYYY`, `YYYY-MM-DD HH:MM:SS`. Anything
// else goes through the full regex above. Each has a twin on UTF-8 bytes (the
// byte records of query/cells.ts), kept here next to it and held to it by
// test/values/twins.test.ts.
const d2 = (s: string, i: number) => {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
};

/** `Y-m-d` for `YYYY-MM-DD` or `DD.MM.YYYY` (exactly), else undefined (not decided here). */
export function fastDate(t: string): string | null | undefined {
  if (t.length !== 10) return undefined;
  const iso = t.charCodeAt(4) === 45 && t.charCodeAt(7) === 45;
  if (!iso && !(t.charCodeAt(2) === 46 && t.charCodeAt(5) === 46)) return undefined;
  // Where the year, month and day digits are.
  const yAt = iso ? 0 : 6;
  const hi = d2(t, yAt);
  const lo = d2(t, yAt + 2);
  if (hi < 0 || lo < 0) return undefined;
  const y = hi * 100 + lo;
  const m = d2(t, iso ? 5 : 3);
  const d = d2(t, iso ? 8 : 0);
  if (m < 1 || m > 12 || d < 1 || y < 1 || d > daysInMonth(y, m)) return null;
  return t.charCodeAt(4) === 45 ? t : `${t.slice(6)}-${t.slice(3, 5)}-${t.slice(0, 2)}`;
}

/** `Y-m-d H:i:s` for `YYYY-MM-DD HH:MM:SS` (exactly), else undefined. */
export function fastDateTime(t: string): string | null | undefined {
  if (t.length !== 19 || t.charCodeAt(10) !== 32 || t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58) return undefined;
  const date = fastDate(t.slice(0, 10));
  if (date === undefined) return undefined;
  const hh = d2(t, 11);
  const mm = d2(t, 14);
  const ss = d2(t, 17);
  if (hh < 0 || mm < 0 || ss < 0) return undefined;
  return date === null || hh > 23 || mm > 59 || ss > 59 ? null : `${date}${t.slice(10)}`;
}

/** What the byte twins say: fastDate's undefined, its null, or a date whose `Y-m-d` is the bytes as they are (ISO) or reordered from `DD.MM.YYYY`. */
export const DATE_UNDECIDED = -1;
export const DATE_INVALID = 0;
export const DATE_ISO = 1;
export const DATE_DOTTED = 2;

/** d2 on bytes. */
function d2At(buf: Uint8Array, i: number): number {
  const a = buf[i] - 48;
  const b = buf[i + 1] - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** fastDate on the 10 bytes at `s`. */
export function fastDateAt(buf: Uint8Array, s: number): number {
  const iso = buf[s + 4] === 45 && buf[s + 7] === 45;
  if (!iso && !(buf[s + 2] === 46 && buf[s + 5] === 46)) return DATE_UNDECIDED;
  const yAt = s + (iso ? 0 : 6);
  const hi = d2At(buf, yAt);
  const lo = d2At(buf, yAt + 2);
  if (hi < 0 || lo < 0) return DATE_UNDECIDED;
  const y = hi * 100 + lo;
  const m = d2At(buf, s + (iso ? 5 : 3));
  const d = d2At(buf, s + (iso ? 8 : 0));
  if (m < 1 || m > 12 || d < 1 || y < 1 || d > daysInMonth(y, m)) return DATE_INVALID;
  return buf[s + 4] === 45 ? DATE_ISO : DATE_DOTTED;
}

/** fastDateTime on the 19 bytes at `s` (its time is the bytes from s + 10 as they are). */
export function fastDateTimeAt(buf: Uint8Array, s: number): number {
  if (buf[s + 10] !== 32 || buf[s + 13] !== 58 || buf[s + 16] !== 58) return DATE_UNDECIDED;
  const date = fastDateAt(buf, s);
  if (date === DATE_UNDECIDED) return DATE_UNDECIDED;
  const hh = d2At(buf, s + 11);
  const mm = d2At(buf, s + 14);
  const ss = d2At(buf, s + 17);
  if (hh < 0 || mm < 0 || ss < 0) return DATE_UNDECIDED;
  return date === DATE_INVALID || hh > 23 || mm > 59 || ss > 59 ? DATE_INVALID : date;
}

/** `Y-m-d`, or null. A datetime value keeps only its date. */
export function parseDate(text: string, order: SlashOrder): string | null {
  const fast = fastDate(text);
  if (fast !== undefined) return fast;
  const p = parseDateParts(text, order);
  return p ? formatDate(p) : null;
}

/** `Y-m-d H:i:s`, or null. A date-only value is midnight. */
export function parseDateTime(text: string, order: SlashOrder): string | null {
  const fast = fastDateTime(text);
  if (fast !== undefined) return fast;
  const p = parseDateParts(text, order);
  return p ? formatDateTime(p) : null;
}

/** Inference: `date`, `datetime` or neither; also which slash orders fit. */
export function dateKind(text: string): { kind: "date" | "datetime"; dmy: boolean; mdy: boolean } | null {
  const dmy = parseDateParts(text, "dmy");
  const mdy = text.includes("/") ? parseDateParts(text, "mdy") : dmy;
  const p = dmy ?? mdy;
  if (!p) return null;
  return { kind: p.hasTime ? "datetime" : "date", dmy: dmy !== null, mdy: mdy !== null };
}
