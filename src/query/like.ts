/**
 * SQL LIKE without a regex: `%` is any run of characters, `_` exactly one,
 * everything else literal. A backtracking regex (`^.*.*.*b$`) takes
 * exponential time on a hostile pattern; this matcher never backtracks past
 * a `%`, so its cost is at most (text length × pattern length), and for the
 * usual patterns (`Laptop%`, `%pro%`) one indexOf per segment.
 *
 * The pattern is split on `%` into literal segments. Between two `%` the
 * leftmost occurrence of a segment is always the right choice (a later one
 * only leaves less room for the rest), so the segments are found left to
 * right; the first is anchored at the start unless the pattern starts with
 * `%`, the last at the end unless it ends with `%`. A segment without `_` is
 * found with indexOf (linear in V8); one with `_` by bit-parallel Shift-And,
 * (text length × segment length / 32) steps, never a naive rescan.
 *
 * "One character" is one Unicode code point, as in the portal's database
 * (utf8mb4): texts with characters outside the BMP are matched as arrays of
 * code points.
 */

type Chars = string | readonly string[];

/** Does `seg` (with `_` as any one character) match `text` at `at`? */
function matchesAt(text: Chars, at: number, seg: Chars): boolean {
  for (let j = 0; j < seg.length; j++) {
    if (seg[j] !== "_" && seg[j] !== text[at + j]) return false;
  }
  return true;
}

/** Shift-And tables of one segment: per character, which positions it may fill. */
interface Masks {
  words: number;
  byChar: Map<string, Uint32Array>;
  /** Positions any character fills (the `_`s). */
  any: Uint32Array;
  /** The longest run of literal characters in the segment, and where it starts. */
  lit: string;
  litAt: number;
}

function masksOf(seg: Chars): Masks {
  const words = Math.ceil(seg.length / 32);
  const any = new Uint32Array(words);
  for (let j = 0; j < seg.length; j++) if (seg[j] === "_") any[j >> 5] |= 1 << (j & 31);
  const byChar = new Map<string, Uint32Array>();
  for (let j = 0; j < seg.length; j++) {
    const c = seg[j];
    if (c === "_") continue;
    let m = byChar.get(c);
    if (!m) byChar.set(c, (m = Uint32Array.from(any)));
    m[j >> 5] |= 1 << (j & 31);
  }
  let lit = "";
  let litAt = 0;
  for (let j = 0; j < seg.length; ) {
    if (seg[j] === "_") {
      j++;
      continue;
    }
    let k = j;
    while (k < seg.length && seg[k] !== "_") k++;
    if (k - j > lit.length) {
      lit = typeof seg === "string" ? seg.slice(j, k) : seg.slice(j, k).join("");
      litAt = j;
    }
    j = k;
  }
  return { words, byChar, any, lit, litAt };
}

/**
 * Knuth–Morris–Pratt over code points: a literal segment (no `_`) in a text
 * of code points, in time linear in both (a naive scan is text × segment).
 */
function kmpFind(text: readonly string[], seg: readonly string[], from: number): number {
  if (seg.length === 0) return from <= text.length ? from : -1;
  const fail = new Int32Array(seg.length);
  for (let i = 1, k = 0; i < seg.length; i++) {
    while (k > 0 && seg[i] !== seg[k]) k = fail[k - 1];
    if (seg[i] === seg[k]) k++;
    fail[i] = k;
  }
  for (let i = from, k = 0; i < text.length; i++) {
    while (k > 0 && text[i] !== seg[k]) k = fail[k - 1];
    if (text[i] === seg[k]) k++;
    if (k === seg.length) return i - seg.length + 1;
  }
  return -1;
}

/** Leftmost position ≥ from where `seg` matches, or -1. */
function find(text: Chars, seg: Chars, from: number, masks: Masks | null): number {
  if (masks === null) {
    if (typeof text === "string") return text.indexOf(seg as string, from);
    return kmpFind(text, seg as readonly string[], from);
  }
  // Most `_` segments have a literal run (`9_7`: "9"): jump between its
  // occurrences with indexOf and verify there. Every miss costs up to the
  // segment's length, so after as many misses as the text is long / 32 it
  // switches to Shift-And, which never costs more than that.
  if (masks.lit !== "" && typeof text === "string") {
    let budget = (text.length >> 5) + 16;
    let at = text.indexOf(masks.lit, from + masks.litAt);
    while (at >= 0 && budget-- > 0) {
      const start = at - masks.litAt;
      if (start + seg.length > text.length) return -1;
      if (matchesAt(text, start, seg)) return start;
      from = start + 1;
      at = text.indexOf(masks.lit, from + masks.litAt);
    }
    if (at < 0) return -1;
  }
  const { words, byChar, any } = masks;
  const state = new Uint32Array(words);
  const top = words - 1;
  const hit = 1 << ((seg.length - 1) & 31);
  for (let i = from; i < text.length; i++) {
    const mask = byChar.get(text[i]) ?? any;
    let carry = 1;
    for (let w = 0; w < words; w++) {
      const d = state[w];
      state[w] = ((d << 1) | carry) & mask[w];
      carry = d >>> 31;
    }
    if (state[top] & hit) return i - seg.length + 1;
  }
  return -1;
}

const ASTRAL = /[\uD800-\uDFFF]/;

export type LikeMatcher = (text: string) => boolean;

export function likeMatcher(pattern: string): LikeMatcher {
  const parts = pattern.split("%");
  const anchoredStart = parts.length === 1 || parts[0] !== "";
  const anchoredEnd = parts.length === 1 || parts[parts.length - 1] !== "";
  // Runs of `%` leave empty segments: they match anywhere and are dropped.
  const segments = parts.filter((s) => s !== "");
  const strings = { segs: segments, masks: segments.map((s) => (s.includes("_") ? masksOf(s) : null)) };
  const astralPattern = ASTRAL.test(pattern);
  const cpSegs = segments.map((s) => Array.from(s));
  const codePoints = { segs: cpSegs, masks: cpSegs.map((s) => (s.includes("_") ? masksOf(s) : null)) };

  const run = (text: Chars, segs: readonly Chars[], masks: readonly (Masks | null)[]): boolean => {
    if (parts.length === 1)
      return text.length === segs[0]?.length ? segs.length === 0 || matchesAt(text, 0, segs[0]) : text.length === 0 && segs.length === 0;
    let pos = 0;
    let first = 0;
    let last = segs.length;
    if (anchoredStart && segs.length > 0) {
      if (segs[0].length > text.length || !matchesAt(text, 0, segs[0])) return false;
      pos = segs[0].length;
      first = 1;
    }
    let endLimit = text.length;
    if (anchoredEnd && last > first) {
      const tail = segs[last - 1];
      const at = text.length - tail.length;
      if (at < pos || !matchesAt(text, at, tail)) return false;
      endLimit = at;
      last--;
    }
    for (let k = first; k < last; k++) {
      const at = find(text, segs[k], pos, masks[k]);
      if (at < 0 || at + segs[k].length > endLimit) return false;
      pos = at + segs[k].length;
    }
    return true;
  };

  // Code points matter only where `_` counts characters: literal segments
  // match the same in UTF-16 units.
  const countsChars = pattern.includes("_");
  return (text) => {
    if (countsChars && (astralPattern || ASTRAL.test(text))) return run(Array.from(text), codePoints.segs, codePoints.masks);
    return run(text, strings.segs, strings.masks);
  };
}
