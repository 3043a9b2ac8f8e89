/**
 * Which text encoding a file's bytes are in (docs/design/xlsx-and-exports.md §7):
 *
 * 1. a BOM decides (UTF-8, UTF-16LE, UTF-16BE);
 * 2. bytes that are all ASCII, or valid UTF-8, are UTF-8 (ASCII leaves the
 *    decision open: a later byte may still prove a single-byte encoding);
 * 3. else chardet (a kept detector, not a hand-made one) is run on the lines
 *    that hold bytes >= 0x80 — never on the whole file, whose ASCII would
 *    drown the evidence — and its answers are restricted to the encodings
 *    spreadsheet exports come in: windows-1251, windows-1252, windows-1250,
 *    KOI8-R, IBM866 (ISO-8859-x mapped to their Windows supersets);
 * 4. too little evidence, or two close answers, is "guessed": the candidates
 *    are decoded and scored by how much the result reads as words
 *    (letters, not symbols or controls; no case flips inside a word; no long
 *    runs of accented letters, which Latin text does not have), and the
 *    upload answer says to set `encoding` in the sidecar if the guess is wrong.
 *
 * `CharsetEvidence` collects the same evidence from a stream (an upload is
 * read once), in bounded memory.
 */
import chardet from "chardet";

/** The single-byte encodings a file is detected in (a sidecar may declare more). */
export const DETECTED_SINGLE_BYTE = ["windows-1251", "windows-1252", "windows-1250", "koi8-r", "ibm866"] as const;
export type DetectedSingleByte = (typeof DETECTED_SINGLE_BYTE)[number];

export type DetectedEncoding = "utf-8" | "utf-16le" | "utf-16be" | DetectedSingleByte;

/**
 * How the encoding was found. `ascii`: every byte seen so far is ASCII (read
 * as UTF-8; still open). `detected`: chardet was clear. `guessed`: the
 * evidence was thin or two answers were close.
 */
export type EncodingHow = "declared" | "bom" | "ascii" | "utf-8" | "detected" | "guessed";

export interface EncodingChoice {
  encoding: string;
  how: EncodingHow;
  /** Bytes of BOM at the start of the file (skipped by the decoder). */
  bom?: number;
  /** For `detected`/`guessed`: the runner-up, for the note. */
  alternative?: string;
}

/** At most this much of the lines holding non-ASCII bytes is kept as evidence (chardet and the reading test cost ~1.5 ms per KB). */
export const EVIDENCE_BYTES = 16 * 1024;
/** Fewer non-ASCII letters than this in the evidence is a guess, whatever chardet says. */
export const MIN_EVIDENCE = 32;
/** chardet confidences (0..100) closer than this are a guess. */
const CLOSE = 10;

// chardet's names → the encoding we decode with (WHATWG names).
const CHARDET_MAP: Record<string, DetectedSingleByte> = {
  "windows-1251": "windows-1251",
  "ISO-8859-5": "windows-1251",
  "windows-1252": "windows-1252",
  "ISO-8859-1": "windows-1252",
  "ISO-8859-9": "windows-1252",
  "ISO-8859-15": "windows-1252",
  "windows-1250": "windows-1250",
  "ISO-8859-2": "windows-1250",
  "KOI8-R": "koi8-r",
};

export function bomOf(bytes: Uint8Array): EncodingChoice | null {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: "utf-8", how: "bom", bom: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: "utf-16le", how: "bom", bom: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: "utf-16be", how: "bom", bom: 2 };
  return null;
}

const LETTER = /\p{L}/u;
const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;
const CYRILLIC = /\p{Script=Cyrillic}/u;
const CONTROL = /\p{Cc}/u;
// Box drawing, blocks and geometric shapes: IBM866's upper half read where letters were meant.
const BOX = /[\u2500-\u25ff]/u;

// The non-ASCII letters of the languages each candidate is used for, weighted
// by how common they are there: Russian, Ukrainian, Belarusian for the
// Cyrillic ones; Western European for 1252; Central European for 1250.
// Another letter the bytes decode to reads as nothing (a letter of some other
// language: how 1250 text reads as 1252 — `ř` as `ø`, `ě` as `ì`).
const RUSSIAN = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяієїґў";
const COMMON: Record<DetectedSingleByte, Map<string, number>> = {
  "windows-1251": letters(RUSSIAN),
  "koi8-r": letters(RUSSIAN),
  ibm866: letters(RUSSIAN),
  "windows-1252": letters("äöüßéèàçâêîôûëïœñáíóúãõ", "ùìòøåæÿšž"),
  "windows-1250": letters("áäčďéěíľňóôřšťúůýžąćęłńśźżőűöü", "ĺŕăâîşţ"),
};

function letters(common: string, rare = ""): Map<string, number> {
  const out = new Map<string, number>();
  for (const ch of [...rare, ...rare.toUpperCase()]) out.set(ch, 0.5);
  for (const ch of [...common, ...common.toUpperCase()]) out.set(ch, 1);
  return out;
}

/**
 * How much the evidence decoded with a candidate reads as words of that
 * candidate's languages: a score per judged character (at most 1), and how
 * many were judged. Only characters decoded from bytes >= 0x80 are judged
 * (ASCII is the same in every candidate), and spaces, punctuation and signs
 * are not (a no-break space in `1 234,50` says nothing). A letter of the
 * languages earns its weight; a control character or box drawing -2; a
 * letter next to a digit -1 (`1а234`: IBM866's `а` is cp1251's no-break
 * space); a capital after a small letter inside a word (KOI8-R read as
 * cp1251 and back) or Cyrillic next to Latin in one word (cp1252 read as
 * cp1251) -2; a third accented Latin letter in a row -2 (Latin text has them
 * here and there, never words of them).
 */
function readability(bytes: Uint8Array, encoding: DetectedSingleByte): { score: number; judged: number } {
  const common = COMMON[encoding];
  const text = decodeSingleByte(bytes, encoding);
  let score = 0;
  let judged = 0;
  let run = 0;
  // Per character: 0 not a letter, 1 small, 2 capital, 3 other letter; +4 when Cyrillic.
  let prevKind = 0;
  let prevHigh = false;
  let prevDigit = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const high = code >= 0x80;
    if (!high) {
      // ASCII: the same in every candidate; only what it tells about its neighbours counts.
      const isLetter = (code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a;
      const kind = isLetter ? (code < 0x61 ? 2 : 1) : 0;
      if (kind !== 0 && prevHigh && prevKind !== 0) score += pairPenalty(prevKind, kind);
      prevKind = kind;
      prevHigh = false;
      prevDigit = code >= 0x30 && code <= 0x39;
      run = 0;
      continue;
    }
    const ch = text[i];
    const kind = !LETTER.test(ch) ? 0 : (UPPER.test(ch) ? 2 : LOWER.test(ch) ? 1 : 3) + (CYRILLIC.test(ch) ? 4 : 0);
    if (kind !== 0) {
      judged++;
      const next = text.charCodeAt(i + 1);
      if (prevDigit || (next >= 0x30 && next <= 0x39)) score -= 1;
      else score += common.get(ch) ?? 0;
      run++;
      if (run >= 3 && kind < 4) score -= 2;
      if (prevKind !== 0) score += pairPenalty(prevKind, kind);
    } else {
      if (CONTROL.test(ch) || BOX.test(ch)) judged++, (score -= 2);
      run = 0;
    }
    prevKind = kind;
    prevHigh = true;
    prevDigit = false;
  }
  return { score: score / Math.max(1, judged), judged };
}

/**
 * Two letters in a row, one of them non-ASCII: a capital after a small letter
 * (KOI8-R read as cp1251 and back), or Cyrillic next to Latin (cp1252 read as
 * cp1251), reads as no word.
 */
function pairPenalty(prev: number, cur: number): number {
  let p = 0;
  if ((cur & 3) === 2 && (prev & 3) === 1) p -= 2;
  if ((cur & 4) !== (prev & 4)) p -= 2;
  return p;
}

// WHATWG windows-1252 at 0x80–0x9F. Node (the upload CLI) decodes that label as
// ISO-8859-1 (C1 controls there; workerd does not), which would read € as a control.
const WIN1252_C1 = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ";
const LATIN1_AS_1252 = new TextDecoder("windows-1252").decode(Uint8Array.of(0x80)) !== "€";

function decodeSingleByte(bytes: Uint8Array, encoding: DetectedSingleByte): string {
  const text = new TextDecoder(encoding).decode(bytes);
  if (encoding !== "windows-1252" || !LATIN1_AS_1252) return text;
  return text.replace(/[\u0080-\u009f]/g, (c) => WIN1252_C1[c.charCodeAt(0) - 0x80]);
}

/** Candidates reading this much (per non-ASCII byte) below the best one are out. */
const READING_MARGIN = 0.02;

/**
 * The best single-byte encoding for the evidence (lines holding bytes >= 0x80).
 * Reading decides which candidates are plausible; among those chardet's
 * confidence decides (its n-gram statistics know the languages better);
 * `detected` needs MIN_EVIDENCE non-ASCII letters read and a clear winner.
 */
export function detectSingleByte(evidence: Uint8Array): EncodingChoice {
  const confidence = new Map<DetectedSingleByte, number>();
  for (const m of chardet.analyse(evidence)) {
    const mapped = CHARDET_MAP[m.name];
    if (mapped && !confidence.has(mapped)) confidence.set(mapped, m.confidence);
  }
  const read = DETECTED_SINGLE_BYTE.map((e) => ({ e, ...readability(evidence, e), c: confidence.get(e) ?? 0 }));
  const top = Math.max(...read.map((x) => x.score));
  const plausible = read.filter((x) => x.score >= top - READING_MARGIN).sort((a, b) => b.c - a.c || b.score - a.score);
  const rest = read.filter((x) => x.score < top - READING_MARGIN).sort((a, b) => b.score - a.score);
  const [best, second] = [...plausible, ...rest];
  const clear = plausible.length === 1 || plausible[0].c - plausible[1].c >= CLOSE;
  return { encoding: best.e, how: best.judged >= MIN_EVIDENCE && top > 0 && clear ? "detected" : "guessed", alternative: second.e };
}

/**
 * Evidence for the encoding, fed chunk by chunk from the file's first byte:
 * whether it is valid UTF-8 and whether any byte is >= 0x80, and up to
 * EVIDENCE_BYTES of the lines that hold such bytes. Memory: that much plus
 * one line (a line is cut at EVIDENCE_BYTES).
 */
export class CharsetEvidence {
  private first: Uint8Array | null = null;
  private utf8: TextDecoder | null = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  private nonAscii = false;
  private readonly kept: Uint8Array[] = [];
  private keptBytes = 0;
  /** The current line so far (its pieces from earlier chunks), and whether it holds a byte >= 0x80. */
  private line: Uint8Array[] = [];
  private lineBytes = 0;
  private lineHigh = false;
  private total = 0;

  push(chunk: Uint8Array): void {
    if (this.total < 3) {
      const have = this.first ?? new Uint8Array(0);
      const joined = new Uint8Array(Math.min(3, have.length + chunk.length));
      joined.set(have.subarray(0, joined.length));
      joined.set(chunk.subarray(0, joined.length - have.length), have.length);
      this.first = joined;
    }
    this.total += chunk.length;
    if (this.utf8) {
      try {
        this.utf8.decode(chunk, { stream: true });
      } catch {
        this.utf8 = null;
      }
    }
    if (this.keptBytes >= EVIDENCE_BYTES) {
      if (!this.nonAscii) this.nonAscii = hasHighByte(chunk);
      return;
    }
    // Only lines holding a byte >= 0x80 are copied; the others are passed over.
    let start = 0;
    for (let i = 0; i < chunk.length && this.keptBytes < EVIDENCE_BYTES; i++) {
      const b = chunk[i];
      if (b === 0x0a || b === 0x0d) {
        if (this.lineHigh) this.addPiece(chunk.subarray(start, i));
        this.endLine();
        start = i + 1;
      } else if (b >= 0x80) this.lineHigh = this.nonAscii = true;
    }
    if (this.keptBytes >= EVIDENCE_BYTES) {
      if (!this.nonAscii) this.nonAscii = hasHighByte(chunk);
    } else if (start < chunk.length) {
      // The line goes on in the next chunk: its start is kept (a high byte may still come).
      this.addPiece(chunk.subarray(start));
    }
  }

  private addPiece(piece: Uint8Array): void {
    // A line longer than the evidence is cut: its first EVIDENCE_BYTES are plenty.
    const room = EVIDENCE_BYTES - this.lineBytes;
    if (room <= 0 || piece.length === 0) return;
    const cut = piece.subarray(0, room);
    this.line.push(cut.slice());
    this.lineBytes += cut.length;
  }

  private endLine(): void {
    if (this.lineHigh && this.keptBytes < EVIDENCE_BYTES) {
      const bytes = concatAll(this.line).subarray(0, EVIDENCE_BYTES - this.keptBytes);
      this.kept.push(bytes, Uint8Array.of(0x0a));
      this.keptBytes += bytes.length + 1;
    }
    this.line = [];
    this.lineBytes = 0;
    this.lineHigh = false;
  }

  /** How many bytes of evidence are kept so far. */
  get size(): number {
    return this.keptBytes + (this.lineHigh ? this.lineBytes : 0);
  }

  /** The lines holding bytes >= 0x80, so far. */
  evidence(): Uint8Array {
    return concatAll(this.lineHigh ? [...this.kept, ...this.line] : this.kept);
  }

  /** The decision over what was pushed; `complete`: it was the whole file (a cut last character is then invalid). */
  result(complete: boolean): EncodingChoice {
    const bom = this.first ? bomOf(this.first) : null;
    if (bom) return bom;
    let valid = this.utf8 !== null;
    if (valid && complete) {
      try {
        this.utf8!.decode();
      } catch {
        valid = false;
      }
    }
    if (valid) return { encoding: "utf-8", how: this.nonAscii ? "utf-8" : "ascii" };
    return detectSingleByte(this.evidence());
  }
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}

function hasHighByte(chunk: Uint8Array): boolean {
  for (let i = 0; i < chunk.length; i++) if (chunk[i] >= 0x80) return true;
  return false;
}

/** The decision for a sample (the first bytes, or the whole file when `complete`). */
export function detectCharset(sample: Uint8Array, complete: boolean): EncodingChoice {
  const e = new CharsetEvidence();
  e.push(sample);
  return e.result(complete);
}
