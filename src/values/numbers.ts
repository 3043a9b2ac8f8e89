/**
 * Number recognition, shared by type inference, output conversion and filter
 * values. Inference is stricter than conversion: `007` or `1e5` are kept as
 * text when guessing (codes, article numbers), but a declared numeric column
 * still reads them.
 */

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
