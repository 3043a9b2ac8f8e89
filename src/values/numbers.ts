/**
 * Number recognition, shared by type inference, output conversion and filter
 * values. A numeric column's cells are read by one convention, the column's
 * (readNumber), under the rules inference decided it by (numberShape): `007`,
 * `1e5` and integers over 15 digits are no numbers (codes, not quantities);
 * a column a sidecar declares numeric also reads `007` and `1e5`, and
 * integers while a double holds them exactly. Filter values (parseNumber)
 * are read loosely: they are what a person typed, not a file's cells.
 */
import type { NumberFormat } from "../model";

// Every pattern here is unambiguous (each character can be matched one way
// only), so a failing match costs linear time: an ambiguous one like `\d+\.?\d*`
// tries every split of a long digit run (160,000 digits + "x": 9.8 s).
const PLAIN = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// `1234,56`, `1 234,56` (space, no-break or narrow no-break space as thousands).
const COMMA = /^[+-]?(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:,\d+)?$/;
const GROUP_SPACES = /[ \u00a0\u202f]/g;

/**
 * No number anyone keeps in a table is longer than this (a double has 17
 * significant digits); a longer token is text, and checking that costs nothing.
 */
export const MAX_NUMBER_CHARS = 64;

/** A filter's value as a number, or null. `decimalComma` also accepts `1 234,56`. */
export function parseNumber(text: string, decimalComma: boolean): number | null {
  // Trimming a huge cell would copy it: a token this long is no number however padded.
  if (text.length > 4 * MAX_NUMBER_CHARS) return null;
  const s = text.trim();
  if (s === "" || s.length > MAX_NUMBER_CHARS) return null;
  let n: number;
  if (PLAIN.test(s)) n = Number(s);
  else if (decimalComma && COMMA.test(s)) n = Number(s.replace(GROUP_SPACES, "").replace(",", "."));
  else return null;
  return Number.isFinite(n) ? n : null;
}

// ---- numbers as people write them ------------------------------------------
// `$1,234.50`, `1.234,56 €`, `12 500,50` (U+00A0), `(1,234.50)`, `7.50%`,
// `1 234,56 руб.`: a sign, accounting parentheses, one currency before or
// after, a percent sign, around a body of digit runs and separators. Which
// separator is the decimal one is a property of the column (NumberFormat),
// found from all its values by catalog/infer.ts: a cell on its own (`12,500`)
// may fit several conventions, and is never decided alone.

/** The conventions a column may use, in order of preference when its values fit several. */
export const NUMBER_FORMATS: readonly NumberFormat[] = [
  { decimal: ".", group: "," },
  { decimal: ".", group: " " },
  { decimal: ".", group: "'" },
  { decimal: ".", group: "" },
  { decimal: ",", group: " " },
  { decimal: ",", group: "'" },
  { decimal: ",", group: "." },
  { decimal: ",", group: "" },
];
/** Bits of NUMBER_FORMATS with a decimal point, and with a decimal comma. */
export const POINT_FORMATS = 0b0000_1111;
export const COMMA_FORMATS = 0b1111_0000;

// Lower case: codes are matched case-insensitively. Longer first where one is a prefix of another.
const CURRENCY_BEFORE = ["$", "€", "£", "₽", "eur", "usd", "rub"];
const CURRENCY_AFTER = ["$", "€", "£", "₽", "руб.", "руб", "р.", "eur", "usd", "rub"];
const isBlank = (c: string) => c === " " || c === "\u00a0" || c === "\u202f" || c === "\t";
const isDigit = (c: number) => c >= 48 && c <= 57;
/** A separator as a NumberFormat names it (the three spaces are one). */
function separatorOf(c: string): "," | "." | " " | "'" | null {
  if (c === "," || c === "." || c === "'") return c;
  return c === " " || c === "\u00a0" || c === "\u202f" ? " " : null;
}

/** A number token taken apart: its digit runs and the separators between them. */
interface Token {
  negative: boolean;
  percent: boolean;
  /** The body (digits and separators only). */
  body: string;
  /** Start index in `body` of each digit run (runs[i] .. seps' position). */
  runs: { at: number; length: number }[];
  seps: ("," | "." | " " | "'")[];
}

/** Length of a currency from `list` at `at` (case-insensitive), or 0. */
function currencyAt(s: string, at: number, list: readonly string[]): number {
  if (at >= s.length || isDigit(s.charCodeAt(at))) return 0;
  for (const c of list) if (s.length - at >= c.length && s.substr(at, c.length).toLowerCase() === c) return c.length;
  return 0;
}

/** Length of a currency from `list` ending at `end`, or 0. */
function currencyBefore(s: string, end: number, list: readonly string[]): number {
  if (end <= 0 || isDigit(s.charCodeAt(end - 1))) return 0;
  for (const c of list) if (end >= c.length && s.substr(end - c.length, c.length).toLowerCase() === c) return c.length;
  return 0;
}

/** The body of a trimmed token between its decorations (sign, parentheses, currency, percent); null when nothing is left. */
function undecorate(s: string): { a: number; b: number; negative: boolean; percent: boolean } | null {
  let a = 0;
  let b = s.length;
  const skipBlanks = () => {
    while (a < b && isBlank(s[a])) a++;
    while (b > a && isBlank(s[b - 1])) b--;
  };
  let negative = false;
  let signed = false;
  let percent = false;
  if (s[a] === "(" && s[b - 1] === ")") {
    negative = signed = true;
    a++;
    b--;
    skipBlanks();
  }
  const sign = () => {
    if (signed || (s[a] !== "-" && s[a] !== "+")) return;
    negative = s[a] === "-";
    signed = true;
    a++;
    skipBlanks();
  };
  sign();
  const before = currencyAt(s, a, CURRENCY_BEFORE);
  if (before > 0) {
    a += before;
    skipBlanks();
  }
  sign(); // `$-5` as well as `-$5`
  if (s[b - 1] === "%") {
    percent = true;
    b--;
    skipBlanks();
  }
  if (before === 0 && !percent) {
    const after = currencyBefore(s, b, CURRENCY_AFTER);
    if (after > 0 && b - after >= a) {
      b -= after;
      skipBlanks();
    }
  }
  return a < b ? { a, b, negative, percent } : null;
}

/** Takes the decorations off a trimmed token; null when it is no number shape. Linear in its length. */
function tokenize(s: string): Token | null {
  const d = undecorate(s);
  if (d === null) return null;
  const { negative, percent } = d;
  const body = s.slice(d.a, d.b);
  const runs: Token["runs"] = [];
  const seps: Token["seps"] = [];
  let runAt = 0;
  for (let i = 0; i < body.length; i++) {
    if (isDigit(body.charCodeAt(i))) continue;
    const sep = separatorOf(body[i]);
    if (sep === null) return null;
    // Two separators in a row, or one at the end: no number. A leading one only as `.5` / `,5`.
    if (i === runAt && (i > 0 || sep === " " || sep === "'")) return null;
    runs.push({ at: runAt, length: i - runAt });
    seps.push(sep);
    runAt = i + 1;
  }
  if (runAt === body.length) return null;
  runs.push({ at: runAt, length: body.length - runAt });
  return { negative, percent, body, runs, seps };
}

/** How `t` reads under NUMBER_FORMATS[f]: its int and fraction digits, or null when it does not fit. */
function digitsUnder(t: Token, f: NumberFormat): { int: string; fraction: string } | null {
  const n = t.seps.length;
  if (n === 0) return { int: t.body, fraction: "" };
  const decimalAt = t.seps[n - 1] === f.decimal ? n - 1 : -1;
  const groups = decimalAt >= 0 ? n - 1 : n;
  if (groups > 0) {
    if (f.group === "") return null;
    for (let i = 0; i < groups; i++) if (t.seps[i] !== f.group) return null;
    const first = t.runs[0];
    // `1,234,567`: 1–3 digits (not a leading 0), then runs of exactly three.
    if (first.length < 1 || first.length > 3 || t.body[first.at] === "0") return null;
    for (let i = 1; i <= groups; i++) if (t.runs[i].length !== 3) return null;
  }
  let int = "";
  for (let i = 0; i <= groups; i++) int += t.body.substr(t.runs[i].at, t.runs[i].length);
  const fraction = decimalAt >= 0 ? t.body.substr(t.runs[n].at, t.runs[n].length) : "";
  return { int, fraction };
}

/** What inference learns from one cell: the conventions it fits, those under which it is an int, and whether it has a `,` or `.`. */
export interface NumberShape {
  fits: number;
  ints: number;
  comma: boolean;
  point: boolean;
}

const ALL = (1 << NUMBER_FORMATS.length) - 1;
const DOT_GROUPED = 1 << NUMBER_FORMATS.findIndex((f) => f.decimal === "," && f.group === ".");
// Shared answers for the common shapes (inference looks at every sample cell: no allocation per cell).
const INT_SHAPE: NumberShape = Object.freeze({ fits: ALL, ints: ALL, comma: false, point: false });
const POINT_SHAPE: NumberShape = Object.freeze({ fits: POINT_FORMATS, ints: 0, comma: false, point: true });
const POINT_OR_GROUP_SHAPE: NumberShape = Object.freeze({
  fits: POINT_FORMATS | DOT_GROUPED,
  ints: DOT_GROUPED,
  comma: false,
  point: true,
});

/**
 * `123`, `-4`, `12.5` without taking them apart (the same answers as the
 * general path); undefined for any other shape.
 */
function simpleShape(s: string): NumberShape | null | undefined {
  let i = s[0] === "-" || s[0] === "+" ? 1 : 0;
  const intAt = i;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  const intLength = i - intAt;
  if (intLength === 0) return undefined;
  const leadingZero = intLength > 1 && s[intAt] === "0";
  if (i === s.length) return leadingZero || intLength > MAX_INT_DIGITS ? null : INT_SHAPE;
  if (s[i] !== ".") return undefined;
  const fractionAt = ++i;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  if (i !== s.length || i === fractionAt) return undefined;
  if (leadingZero) return null;
  // `1.500` also reads as 1500 where `.` groups thousands.
  const grouped = i - fractionAt === 3 && intLength <= 3 && s[intAt] !== "0";
  return grouped ? POINT_OR_GROUP_SHAPE : POINT_SHAPE;
}

// 15 digits: every such int is exact in a double.
const MAX_INT_DIGITS = 15;

/**
 * Inference: the conventions under which `text` is a number, or null when
 * it is none. Stricter than reading: a leading zero (`00123`, an article
 * code) and exponents (`1e5`) are text here.
 */
export function numberShape(text: string): NumberShape | null {
  if (text.length > 4 * MAX_NUMBER_CHARS) return null;
  const s = text.trim();
  if (s === "" || s.length > MAX_NUMBER_CHARS) return null;
  const simple = simpleShape(s);
  if (simple !== undefined) return simple;
  const t = tokenize(s);
  if (t === null) return null;
  let fits = 0;
  let ints = 0;
  for (let f = 0; f < NUMBER_FORMATS.length; f++) {
    const d = digitsUnder(t, NUMBER_FORMATS[f]);
    if (d === null) continue;
    if (d.int.length > 1 && d.int[0] === "0") continue; // a code, not a number
    if (d.fraction === "" && d.int.length > MAX_INT_DIGITS) continue; // a card or account number: text
    fits |= 1 << f;
    if (d.fraction === "" && !t.percent) ints |= 1 << f;
  }
  if (fits === 0) return null;
  return { fits, ints, comma: t.seps.includes(","), point: t.seps.includes(".") };
}

const isExponent = (s: string) => s.includes("e") || s.includes("E");

/**
 * A cell of a numeric column, read by the column's convention `format` and
 * no other: null (a misfit) when it does not fit. Without `declared`, the
 * rules are inference's: the cell is a number exactly when numberShape reads
 * it as one under `format` — so a leading zero (`007`), an exponent (`1e5`)
 * or an integer of more than 15 digits is a misfit after the sample as in
 * it. A column whose type a sidecar declares (`declared`) also reads leading
 * zeros and exponents (`1e5` → 100000, plain digits, the column's decimal
 * separator), and integers while they are exact (at most 2^53 − 1). No
 * integer is ever rounded.
 */
export function readNumber(text: string, format: NumberFormat, declared = false): number | null {
  if (text.length > 4 * MAX_NUMBER_CHARS) return null;
  const s = text.trim();
  if (s === "" || s.length > MAX_NUMBER_CHARS) return null;
  // `123`, `-4`, `12.5` (where `.` is the decimal point) without taking them apart.
  let i = s.charCodeAt(0) === 45 || s.charCodeAt(0) === 43 ? 1 : 0;
  const intAt = i;
  while (i < s.length && isDigit(s.charCodeAt(i))) i++;
  const intLength = i - intAt;
  if (intLength > 0 && (i === s.length || (s.charCodeAt(i) === 46 && format.decimal === "."))) {
    const fraction = i < s.length;
    if (fraction) {
      const at = ++i;
      while (i < s.length && isDigit(s.charCodeAt(i))) i++;
      if (i === at) return null;
    }
    if (i === s.length) {
      if (!declared && intLength > 1 && s.charCodeAt(intAt) === 48) return null;
      if (!fraction && intLength > MAX_INT_DIGITS && !declared) return null;
      const n = Number(s);
      return fraction || Number.isSafeInteger(n) ? n : null;
    }
  }
  if (declared && isExponent(s)) {
    // `1e5`, `2.5E-3`: plain digits, with a decimal point only where the column has one.
    if (!PLAIN.test(s) || (s.includes(".") && format.decimal !== ".")) return null;
    const n = Number(s);
    return Number.isFinite(n) && (!Number.isInteger(n) || Number.isSafeInteger(n)) ? n : null;
  }
  return parseDecorated(s, format, declared);
}

/** readNumber's general path (separators, currency, sign, parentheses, percent). */
function parseDecorated(s: string, format: NumberFormat, declared: boolean): number | null {
  const d = undecorate(s);
  if (d === null) return null;
  // One pass over the body under the known convention (the same rules as digitsUnder, without taking it apart).
  let digits = "";
  let runAt = d.a;
  let groups = 0;
  let decimal = false;
  for (let i = d.a; i < d.b; i++) {
    if (isDigit(s.charCodeAt(i))) continue;
    const sep = separatorOf(s[i]);
    const run = i - runAt;
    if (sep === format.decimal && !decimal) {
      if (groups > 0 ? run !== 3 : run === 0 && i > d.a) return null;
      digits += `${s.slice(runAt, i)}.`;
      decimal = true;
    } else if (sep !== null && sep === format.group && !decimal) {
      if (groups === 0 ? run < 1 || run > 3 || s[runAt] === "0" : run !== 3) return null;
      digits += s.slice(runAt, i);
      groups++;
    } else return null;
    runAt = i + 1;
  }
  const last = d.b - runAt;
  if (last === 0 || (!decimal && groups > 0 && last !== 3)) return null;
  digits += s.slice(runAt, d.b);
  // As numberShape: an integer part with a leading zero is a code, more than 15 integer digits a card or account number.
  const intLength = decimal ? digits.indexOf(".") : digits.length;
  if (!declared && intLength > 1 && digits.charCodeAt(0) === 48) return null;
  if (!declared && !decimal && intLength > MAX_INT_DIGITS) return null;
  // Percent moves the point in the text (12% → 0.12), so that 7.5% is exactly 0.075.
  // (Unary + rather than Number(): 4× faster here in V8 on the concatenated text.)
  const n = d.percent ? +`${digits}e-2` : +digits;
  if (!Number.isFinite(n)) return null;
  if (!decimal && !d.percent && !Number.isSafeInteger(n)) return null; // never a rounded integer
  return d.negative ? -n : n;
}

// The answer's as-is number shapes (values/convert.ts emitterFor): text that
// already is canonical JSON for the same number is copied, no call, no string.
// -?(0|[1-9]\d{0,14}), and with `fraction` (a double column whose decimal is
// `.`) also -?(0|[1-9]\d*)\.\d+, under 17 characters. jsonNumberAsIs reads
// text, jsonNumberAsIsAt the UTF-8 bytes of a byte record's cell: twins held
// to each other by test/values/twins.test.ts.

export function jsonNumberAsIs(t: string, fraction: boolean): boolean {
  const n = t.length;
  if (n === 0 || n > 16) return false;
  let i = t.charCodeAt(0) === 45 ? 1 : 0;
  if (i === n) return false;
  const lead = t.charCodeAt(i++);
  if (lead === 48) {
    if (i === n) return true;
  } else if (lead < 49 || lead > 57) return false;
  else while (i < n && isDigit(t.charCodeAt(i))) i++;
  if (i === n) return n - (t.charCodeAt(0) === 45 ? 1 : 0) <= 15;
  if (!fraction || t.charCodeAt(i) !== 46 || ++i === n) return false;
  while (i < n && isDigit(t.charCodeAt(i))) i++;
  return i === n;
}

/** jsonNumberAsIs on the bytes from `s` to `e`. */
export function jsonNumberAsIsAt(buf: Uint8Array, s: number, e: number, fraction: boolean): boolean {
  const n = e - s;
  if (n === 0 || n > 16) return false;
  const neg = buf[s] === 45 ? 1 : 0;
  let i = s + neg;
  if (i === e) return false;
  const lead = buf[i++];
  if (lead === 48) {
    if (i === e) return true;
  } else if (lead < 49 || lead > 57) return false;
  else while (i < e && isDigit(buf[i])) i++;
  if (i === e) return n - neg <= 15;
  if (!fraction || buf[i] !== 46 || ++i === e) return false;
  while (i < e && isDigit(buf[i])) i++;
  return i === e;
}
