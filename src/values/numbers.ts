/**
 * Number recognition, shared by type inference, output conversion and filter
 * values. Inference is stricter than conversion: `007` or `1e5` are kept as
 * text when guessing (codes, article numbers), but a declared numeric column
 * still reads them.
 */
import type { NumberFormat } from "../model";

// Every pattern here is unambiguous (each character can be matched one way
// only), so a failing match costs linear time: `\d+\.?\d*` used to try every
// split of a long digit run (160,000 digits + "x" took 9.8 s).
const PLAIN = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// `1234,56`, `1 234,56` (space, no-break or narrow no-break space as thousands).
const COMMA = /^[+-]?(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:,\d+)?$/;
const GROUP_SPACES = /[ \u00a0\u202f]/g;

const INFER_INT = /^[+-]?(?:0|[1-9]\d{0,14})$/;
const INFER_DOUBLE_DOT = /^[+-]?(?:0|[1-9]\d*)\.\d+$/;
const INFER_DOUBLE_COMMA = /^[+-]?(?:0|[1-9]\d{0,2}(?:[ \u00a0\u202f]\d{3})+|[1-9]\d*),\d+$/;
const INFER_GROUPED_INT = /^[+-]?[1-9]\d{0,2}(?:[ \u00a0\u202f]\d{3})+$/;

/**
 * No number anyone keeps in a table is longer than this (a double has 17
 * significant digits); a longer token is text, and checking that costs nothing.
 */
export const MAX_NUMBER_CHARS = 64;

/** A number from text, or null. `decimalComma` also accepts `1 234,56`. */
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

/** An integer from text, or null (a fractional value is not an int). */
export function parseInteger(text: string, decimalComma: boolean): number | null {
  const n = parseNumber(text, decimalComma);
  return n !== null && Number.isInteger(n) ? n : null;
}

/** Inference: which numeric type this text clearly is, if any. */
export function numericKind(text: string, decimalComma: boolean): "int" | "double" | null {
  if (text.length > MAX_NUMBER_CHARS) return null;
  if (INFER_INT.test(text)) return "int";
  if (INFER_DOUBLE_DOT.test(text)) return "double";
  if (decimalComma) {
    if (INFER_GROUPED_INT.test(text)) return "int";
    if (INFER_DOUBLE_COMMA.test(text)) return "double";
  }
  return null;
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

/** Takes the decorations off a trimmed token; null when it is no number shape. Linear in its length. */
function tokenize(s: string): Token | null {
  const lower = s.toLowerCase();
  let a = 0;
  let b = s.length;
  const skipBlanks = () => {
    while (a < b && isBlank(s[a])) a++;
    while (b > a && isBlank(s[b - 1])) b--;
  };
  let negative = false;
  let signed = false;
  let currency = false;
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
  for (const c of CURRENCY_BEFORE) {
    if (lower.startsWith(c, a)) {
      a += c.length;
      currency = true;
      skipBlanks();
      break;
    }
  }
  sign(); // `$-5` as well as `-$5`
  if (s[b - 1] === "%") {
    percent = true;
    b--;
    skipBlanks();
  }
  if (!currency && !percent) {
    for (const c of CURRENCY_AFTER) {
      if (b - c.length >= a && lower.startsWith(c, b - c.length)) {
        b -= c.length;
        skipBlanks();
        break;
      }
    }
  }
  if (a >= b) return null;
  const body = s.slice(a, b);
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

function valueOf(t: Token, d: { int: string; fraction: string }): number | null {
  const digits = `${d.int || "0"}${d.fraction ? `.${d.fraction}` : ""}`;
  // Percent moves the point (12% → 0.12) in the text, so that 7.5% is exactly 0.075.
  const n = Number(t.percent ? `${digits}e-2` : digits);
  if (!Number.isFinite(n)) return null;
  return t.negative ? -n : n;
}

/** What inference learns from one cell: the conventions it fits, those under which it is an int, and whether it has a `,` or `.`. */
export interface NumberShape {
  fits: number;
  ints: number;
  comma: boolean;
  point: boolean;
}

// 15 digits: every such int is exact in a double (as INFER_INT).
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

/**
 * Reading a cell of a column whose convention is known. Plain numbers
 * (`1234.5`, `1e3`, `007`) read as always, except where `.` is the column's
 * thousands separator.
 */
export function parseFormatted(text: string, format: NumberFormat): number | null {
  if (text.length > 4 * MAX_NUMBER_CHARS) return null;
  const s = text.trim();
  if (s === "" || s.length > MAX_NUMBER_CHARS) return null;
  if (PLAIN.test(s) && !(format.group === "." && s.includes("."))) {
    const n = Number(s);
    return Number.isFinite(n) ? n : null;
  }
  const t = tokenize(s);
  if (t === null) return null;
  const d = digitsUnder(t, format);
  return d === null ? null : valueOf(t, d);
}
