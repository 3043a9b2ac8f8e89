/**
 * CSV records as byte ranges: the fast path of a UTF-8 CSV answer.
 *
 * Why not papaparse here: papaparse makes a string of every cell, and
 * making 12 million strings is the floor of any parser that does (a bare
 * `split` over bench.csv takes 1.96 s in Node, papaparse 2.17 s, DuckDB's
 * whole query 2.08 s). A cell of a UTF-8 file already is its answer's bytes,
 * so the answer can copy it without ever making a string (query/cells.ts).
 *
 * This scanner reads only the strict, well-formed subset of CSV: fields
 * separated by the delimiter, records by the dialect's line break, a field
 * that starts with `"` quoted up to a `"` that is followed by the delimiter,
 * the line break or the end of the file (`""` inside is one quote). Anything
 * else — a closing quote followed by other text (papaparse then tolerates
 * blanks, or reports InvalidQuotes), a quote never closed, a record longer
 * than papaparse's reader accepts — is an *anomaly*: the scanner stops
 * before that record and papaparse reads the rest of the file from there
 * (formats/csv/index.ts), so every record it does not read the usual way is
 * read by papaparse alone. test/formats/csv-scan.test.ts checks the scanner against
 * papaparse on generated files.
 *
 * UTF-8 is validated as the WHATWG decoder does (the string path's
 * TextDecoder is fatal): a bad sequence is FILE_ENCODING_INVALID.
 */
import { AppError } from "../../errors";
import type { ByteRecordBatches, ByteRecords, Bytes } from "../../model";
import type { EncodingChoice } from "../../values/charset";
import { CELL_ESCAPED as ESCAPED, CELL_PLAIN as PLAIN, CELL_QUOTED as QUOTED } from "../byte-records";
import { decodeChosen, decodeText, FIX_ENCODING } from "../decode";
import { type CsvDialect, csvRecords } from "./parse";

const QUOTE = 34;
const LF = 10;
const CR = 13;

/**
 * A record still open after this many bytes is left to papaparse (with the
 * rest of the file): a cut record is copied and scanned again with each
 * chunk, which must stay cheap; papaparse has its own cap (parse.ts).
 */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** The scanner's answer for one chunk: the complete records, and whether an anomaly stopped it. */
export interface ScanResult {
  records: ByteRecords;
  /** Byte offset in `records.buf` of the record the scanner cannot read (papaparse reads from there), or -1. */
  anomalyAt: number;
}

/** Grows an Int32Array to at least `n` entries, keeping its contents. */
function grown(a: Int32Array, n: number): Int32Array {
  if (n <= a.length) return a;
  const b = new Int32Array(Math.max(n, 2 * a.length));
  b.set(a);
  return b;
}

function grownBytes(a: Uint8Array, n: number): Uint8Array {
  if (n <= a.length) return a;
  const b = new Uint8Array(Math.max(n, 2 * a.length));
  b.set(a);
  return b;
}

/**
 * Where the valid UTF-8 of `buf[from, end)` ends: `end` when it is all
 * valid; before `end` when the sequence there is cut by `end` and `final` is
 * false; `-1 - i` when the sequence at i is invalid (or cut by the file's end).
 */
export function utf8End(buf: Uint8Array, from: number, end: number, final: boolean): number {
  let i = from;
  while (i < end) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
    } else return -1 - i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= end) return final ? -1 - i : i;
      const c = buf[i + k];
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return -1 - i;
    }
    i += need + 1;
  }
  return end;
}

/** utf8End that throws FILE_ENCODING_INVALID at an invalid sequence, with its absolute offset (`base` is `buf[0]`'s). */
export function validUtf8(buf: Uint8Array, from: number, end: number, final: boolean, base: number, encoding: string): number {
  const to = utf8End(buf, from, end, final);
  if (to < 0) throw badUtf8(base - 1 - to, encoding);
  return to;
}

function hasHighByte(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] >= 0x80) return true;
  return false;
}

function badUtf8(offset: number, encoding: string): AppError {
  return new AppError(
    "FILE_ENCODING_INVALID",
    `The file is not valid ${encoding} (a bad byte sequence at byte ${offset}). ${FIX_ENCODING}`,
  );
}

/**
 * Scans a stream of chunks into records. `scan(chunk)` returns the records
 * complete so far (a record cut by the chunk's end waits for the next
 * chunk); `scan(null)` ends the file. After an anomaly nothing more is scanned.
 */
export class CsvScanner {
  private readonly delim: number;
  private readonly crlf: boolean;
  /** Bytes not scanned yet (the start of a record cut by the last chunk's end). */
  private rest: Uint8Array = new Uint8Array(0);
  /** Absolute offset of `rest[0]` in the file. */
  private base = 0;
  /** How many of `rest`'s bytes are validated UTF-8 already. */
  private valid = 0;
  private first = true;
  private starts: Int32Array = new Int32Array(4096);
  private ends: Int32Array = new Int32Array(4096);
  private kinds: Uint8Array = new Uint8Array(4096);
  private firsts: Int32Array = new Int32Array(1024);

  /** A multi-byte character was read: an ASCII-so-far file is UTF-8. */
  private settled = false;

  /**
   * `open`: the file's first bytes were all ASCII, so its encoding is still
   * open (decode.ts decodeOpen): a byte that is not UTF-8 before any multi-byte
   * character means a single-byte encoding, read by the text reader from that
   * record on. `onSettled` hears when a multi-byte character settles it as UTF-8.
   */
  constructor(
    dialect: CsvDialect,
    private readonly encoding: string,
    private readonly open = false,
    private readonly onSettled?: () => void,
  ) {
    this.delim = dialect.delimiter.charCodeAt(0);
    this.crlf = dialect.newline === "\r\n";
  }

  get isSettled(): boolean {
    return this.settled;
  }

  /** Absolute offset of the first byte not handed out as records yet. */
  get offset(): number {
    return this.base;
  }

  scan(chunk: Uint8Array | null): ScanResult {
    const final = chunk === null;
    let buf: Uint8Array;
    if (chunk === null) buf = this.rest;
    else if (this.rest.byteLength === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.rest.byteLength + chunk.byteLength);
      buf.set(this.rest);
      buf.set(chunk, this.rest.byteLength);
    }
    let p = 0;
    if (this.first && (buf.byteLength >= 3 || final)) {
      this.first = false;
      // The BOM, which the string path's decoder drops.
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) p = 3;
    } else if (this.first) {
      this.rest = buf;
      return { records: this.records(buf, 0, 0), anomalyAt: -1 };
    }
    const end = buf.byteLength;
    const from = Math.max(p, this.valid);
    let validTo = utf8End(buf, from, end, final);
    /** An ASCII-so-far file turned out not to be UTF-8 at this byte: the text reader reads on from its record. */
    let switchAt = -1;
    if (validTo < 0) {
      const bad = -1 - validTo;
      // A multi-byte character before the bad byte settled the file as UTF-8 (decode.ts decodeOpen): it is invalid.
      if (!this.open || this.settled || hasHighByte(buf, from, bad)) throw badUtf8(this.base + bad, this.encoding);
      switchAt = bad;
      validTo = bad;
    } else if (this.open && !this.settled && hasHighByte(buf, from, validTo)) {
      this.settled = true;
      this.onSettled?.();
    }
    // Only validated bytes are scanned: a cut character is part of a record cut by the chunk.
    const limit = validTo;
    const { delim, crlf } = this;
    let starts = this.starts;
    let ends = this.ends;
    let kinds = this.kinds;
    let firsts = this.firsts;
    let nCells = 0;
    let nRecords = 0;
    let anomalyAt = -1;
    let done = p; // the first byte of the first record not complete yet
    let doneCells = 0; // cells of the complete records
    scanning: while (p < limit) {
      const recStart = p;
      const cellsBefore = nCells;
      let atEof = false;
      for (;;) {
        // One field from p.
        if (nCells + 1 > starts.length) {
          starts = grown(starts, nCells + 1);
          ends = grown(ends, nCells + 1);
          kinds = grownBytes(kinds, nCells + 1);
        }
        let next: number; // where the next field or record starts
        let recordEnds: boolean;
        if (p < limit && buf[p] === QUOTE) {
          let q = p + 1;
          let kind = QUOTED;
          let close: number;
          for (;;) {
            close = buf.indexOf(QUOTE, q);
            if (close < 0 || close >= limit) {
              if (final && limit === end) anomalyAt = recStart; // never closed: papaparse reports it
              break scanning;
            }
            if (close + 1 < limit && buf[close + 1] === QUOTE) {
              kind = ESCAPED;
              q = close + 2;
              continue;
            }
            break;
          }
          const after = close + 1;
          // "\n" files: papaparse's quoted value would lose a last `\r` (as a last cell does), which is rare: its reading decides.
          if (!crlf && close > p + 1 && buf[close - 1] === CR && (after >= limit || buf[after] !== delim)) {
            anomalyAt = recStart;
            break scanning;
          }
          if (after >= limit) {
            if (!(final && limit === end)) break scanning; // the next byte decides
            starts[nCells] = p + 1;
            ends[nCells] = close;
            kinds[nCells++] = kind;
            next = after;
            recordEnds = true;
            atEof = true;
          } else {
            const c = buf[after];
            if (c === delim) {
              next = after + 1;
              recordEnds = false;
            } else if (!crlf && c === LF) {
              next = after + 1;
              recordEnds = true;
            } else if (crlf && c === CR && after + 1 < limit && buf[after + 1] === LF) {
              next = after + 2;
              recordEnds = true;
            } else if (crlf && c === CR && after + 1 >= limit && !(final && limit === end)) {
              break scanning;
            } else {
              anomalyAt = recStart;
              break scanning;
            }
            starts[nCells] = p + 1;
            ends[nCells] = close;
            kinds[nCells++] = kind;
          }
        } else {
          let q = p;
          let b = 0;
          if (crlf) {
            while (q < limit && (b = buf[q]) !== delim && !(b === CR && q + 1 < limit && buf[q + 1] === LF)) q++;
          } else while (q < limit && (b = buf[q]) !== delim && b !== LF) q++;
          let cellEnd: number;
          if (q >= limit) {
            if (!(final && limit === end)) break scanning;
            cellEnd = q;
            next = q;
            recordEnds = true;
            atEof = true;
          } else if (b === delim) {
            cellEnd = q;
            next = q + 1;
            recordEnds = false;
          } else {
            cellEnd = q;
            next = crlf ? q + 2 : q + 1;
            recordEnds = true;
          }
          // "\n" files: the string path strips one `\r` from a record's last cell.
          if (recordEnds && !crlf && cellEnd > p && buf[cellEnd - 1] === CR) cellEnd--;
          starts[nCells] = p;
          ends[nCells] = cellEnd;
          kinds[nCells++] = PLAIN;
        }
        p = next;
        if (recordEnds) break;
      }
      // A blank "line" the file ends with, no line break after it, is none (papaparse's reader drops it too).
      if (atEof && nCells === cellsBefore + 1 && starts[cellsBefore] === ends[cellsBefore]) {
        nCells = cellsBefore;
        done = p;
        break;
      }
      if (nRecords + 2 > firsts.length) firsts = grown(firsts, nRecords + 2);
      firsts[nRecords++] = cellsBefore;
      done = p;
      doneCells = nCells;
      if (p >= limit) break;
    }
    nCells = doneCells; // a record cut short is not handed out
    this.starts = starts;
    this.ends = ends;
    this.kinds = kinds;
    this.firsts = firsts;
    // A record still open this far is left to papaparse, which reports it (parse.ts MAX_RECORD_CHARS).
    if (anomalyAt < 0 && !final && end - done > MAX_RECORD_BYTES) anomalyAt = done;
    if (switchAt >= 0 && anomalyAt < 0) anomalyAt = done;
    if (anomalyAt >= 0) {
      this.rest = new Uint8Array(0);
      return { records: this.records(buf, nRecords, nCells), anomalyAt };
    }
    const records = this.records(buf, nRecords, nCells);
    this.rest = final ? new Uint8Array(0) : buf.subarray(done);
    this.valid = validTo - done;
    this.base += done;
    return { records, anomalyAt: -1 };
  }

  private records(buf: Uint8Array, count: number, cells: number): ByteRecords {
    this.firsts[count] = cells;
    return { buf, count, first: this.firsts, start: this.starts, end: this.ends, kind: this.kinds, cells };
  }
}

/**
 * A UTF-8 CSV file's records as byte ranges; from an anomaly on (see the
 * top of this file), papaparse's records of the rest, numbered after these.
 */
export async function* csvByteRecords(bytes: Bytes, dialect: CsvDialect, choice: EncodingChoice): ByteRecordBatches {
  const open = choice.how === "ascii";
  const encoding = choice.encoding;
  const scanner = new CsvScanner(dialect, encoding, open);
  let recordsBefore = 0;
  try {
    for (;;) {
      const next = await bytes.next();
      const { records, anomalyAt } = scanner.scan(next.done ? null : next.value);
      if (records.count > 0) {
        recordsBefore += records.count;
        yield records;
      }
      if (anomalyAt >= 0) {
        const from = records.buf.subarray(anomalyAt);
        const offset = scanner.offset + anomalyAt;
        async function* rest(): Bytes {
          yield from;
          if (!next.done) yield* bytes;
        }
        const text =
          open && !scanner.isSettled ? decodeChosen(rest(), choice) : decodeText(rest(), scanner.isSettled ? "utf-8" : encoding, offset);
        yield* csvRecords(text, dialect, { recordsBefore });
        return;
      }
      if (next.done) return;
    }
  } finally {
    await bytes.return(undefined);
  }
}
