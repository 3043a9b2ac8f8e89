/**
 * A growing byte buffer for output: text is written as UTF-8 straight into a
 * Uint8Array, so an answer is never a concatenated string that TextEncoder
 * copies again (profiled: string building, re-encoding and the garbage they
 * leave were half of a full scan's CPU). `take()` hands the bytes written so
 * far to the caller and starts a fresh buffer, so a taken piece is never
 * overwritten.
 */

const encoder = new TextEncoder();

// Strings longer than this go through the native encoder after one scan for
// characters JSON escapes; shorter ones are cheaper written char by char.
const NATIVE_FROM = 64;
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

// JSON.stringify's escapes of control characters: \b \t \n \f \r, the others \u00xx (lower-case hex).
const SHORT_ESCAPES = new Uint8Array(32);
SHORT_ESCAPES[8] = 98;
SHORT_ESCAPES[9] = 116;
SHORT_ESCAPES[10] = 110;
SHORT_ESCAPES[12] = 102;
SHORT_ESCAPES[13] = 114;
const HEX = new TextEncoder().encode("0123456789abcdef");

export class ByteBuilder {
  // Allocated at the first write after a take, so taking never wastes one.
  private buf = new Uint8Array(0);
  /** Bytes written (the next write position). */
  length = 0;

  /** `initial`: the first allocation's size (about one piece). */
  constructor(private readonly initial = 64 * 1024) {}

  private room(n: number): Uint8Array {
    if (this.length + n > this.buf.length) {
      const grown = new Uint8Array(Math.max(2 * this.buf.length, this.length + n, this.initial));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    return this.buf;
  }

  /** The bytes so far; the builder starts over with a new buffer. */
  take(): Uint8Array {
    if (this.length === 0) return new Uint8Array(0);
    const out = this.buf.subarray(0, this.length);
    this.buf = new Uint8Array(0);
    this.length = 0;
    return out;
  }

  /** The bytes written since `start`, not copied: valid until the next write or take. */
  view(start: number): Uint8Array {
    return this.buf.subarray(start, this.length);
  }

  /** A copy of the bytes written since `start` (a position taken from `length`). */
  since(start: number): Uint8Array {
    return this.buf.slice(start, this.length);
  }

  /** Appends `from`'s bytes since `start` (a short run byte by byte: cheaper than a subarray per cell). */
  copyFrom(from: ByteBuilder, start: number): void {
    const n = from.length - start;
    const buf = this.room(n);
    const src = from.buf;
    if (n < 32) {
      let p = this.length;
      for (let i = start; i < from.length; i++) buf[p++] = src[i];
    } else buf.set(src.subarray(start, from.length), this.length);
    this.length += n;
  }

  /** Appends `src[s, e)` (short runs byte by byte: cheaper than a subarray). */
  copy(src: Uint8Array, s: number, e: number): void {
    const n = e - s;
    const buf = this.room(n);
    if (n < 32) {
      let p = this.length;
      for (let i = s; i < e; i++) buf[p++] = src[i];
    } else buf.set(src.subarray(s, e), this.length);
    this.length += n;
  }

  /**
   * The UTF-8 text `src[s, e)` as a JSON string, byte for byte what
   * `JSON.stringify` of its text encodes to (the bytes are valid UTF-8, so no
   * lone surrogates). `doubled`: `""` in it stands for one `"` (a quoted CSV cell).
   */
  jsonBytes(src: Uint8Array, s: number, e: number, doubled: boolean): void {
    // At most 6 bytes per byte (\u001f) and the quotes.
    const buf = this.room(6 * (e - s) + 2);
    let p = this.length;
    buf[p++] = 34;
    for (let i = s; i < e; i++) {
      const b = src[i];
      if (b >= 0x20 && b !== 34 && b !== 92) {
        buf[p++] = b;
        continue;
      }
      buf[p++] = 92;
      if (b === 34) {
        buf[p++] = 34;
        if (doubled) i++;
      } else if (b === 92) buf[p++] = 92;
      else {
        const short = SHORT_ESCAPES[b];
        if (short !== 0) buf[p++] = short;
        else {
          buf[p++] = 117; // u00XX
          buf[p++] = 48;
          buf[p++] = 48;
          buf[p++] = HEX[b >> 4];
          buf[p++] = HEX[b & 15];
        }
      }
    }
    buf[p++] = 34;
    this.length = p;
  }

  byte(b: number): void {
    this.room(1)[this.length++] = b;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length).set(b, this.length);
    this.length += b.length;
  }

  /** Any text, as UTF-8 (lone surrogates become U+FFFD, as with TextEncoder). */
  text(s: string): void {
    if (s.length < NATIVE_FROM && this.ascii(s)) return;
    const buf = this.room(3 * s.length);
    this.length += encoder.encodeInto(s, buf.subarray(this.length)).written;
  }

  /** Text known to be ASCII only when it is (numbers, dates); false, and nothing written, otherwise. */
  ascii(s: string): boolean {
    const n = s.length;
    const buf = this.room(n);
    let p = this.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return false;
      buf[p++] = c;
    }
    this.length = p;
    return true;
  }

  /** `JSON.stringify(s)` as UTF-8, byte for byte, without making that string. */
  jsonString(s: string): void {
    const n = s.length;
    if (n >= NATIVE_FROM) {
      if (NEEDS_ESCAPE.test(s)) return this.text(JSON.stringify(s));
      const buf = this.room(3 * n + 2);
      buf[this.length++] = 34;
      this.length += encoder.encodeInto(s, buf.subarray(this.length)).written;
      buf[this.length++] = 34;
      return;
    }
    const buf = this.room(3 * n + 2);
    let p = this.length;
    buf[p++] = 34;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c < 0x20 || c === 34 || c === 92) return this.text(JSON.stringify(s)); // escapes: rare
        buf[p++] = c;
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        return this.text(JSON.stringify(s)); // surrogates (pairs, or lone ones JSON escapes): rare
      } else {
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 0x3f);
        buf[p++] = 0x80 | (c & 0x3f);
      }
    }
    buf[p++] = 34;
    this.length = p;
  }
}
