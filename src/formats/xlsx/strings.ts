/**
 * The shared strings table (xl/sharedStrings.xml), read once before the
 * sheet and kept packed: one growing Uint8Array of UTF-8 and the end offset
 * of each string, instead of a JS string per entry (V8's ~20 bytes per string
 * plus 2 per char). A cell decodes its string when it is read, through a
 * small cache (columns repeat their values). Over STRINGS_BUDGET the
 * workbook is refused with the figure (docs/design/xlsx-and-exports.md §4).
 */
import { AppError } from "../../errors";
import type { Bytes } from "../../model";
import { unescapeText } from "./cells";
import { malformed } from "./zip";
import { parseXml } from "./xml";

export const STRINGS_BUDGET = 48 * 1024 * 1024;
const CACHE_SIZE = 1024;

export class SharedStrings {
  private bytes = new Uint8Array(64 * 1024);
  private ends = new Uint32Array(1024);
  private used = 0;
  count = 0;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private readonly cacheKeys = new Int32Array(CACHE_SIZE).fill(-1);
  private readonly cacheValues: (string | null)[] = new Array(CACHE_SIZE).fill(null);

  constructor(private readonly budget = STRINGS_BUDGET) {}

  private tooLarge(): AppError {
    return new AppError(
      "XLSX_TOO_LARGE",
      `The workbook's shared strings take more than ${Math.round(this.budget / 1024 / 1024)} MB (${this.count} strings read so far): too large to serve. Save the sheet as CSV UTF-8 and upload that (CSV is read as a stream, of any size).`,
    );
  }

  add(text: string): void {
    const need = this.used + 3 * text.length;
    if (need > this.bytes.length) {
      let size = this.bytes.length;
      while (size < need) size *= 2;
      if (this.used + text.length + 4 * this.count > this.budget) throw this.tooLarge();
      const grown = new Uint8Array(Math.min(size, Math.max(need, this.budget)));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.used += this.encoder.encodeInto(text, this.bytes.subarray(this.used)).written;
    if (this.count === this.ends.length) {
      const grown = new Uint32Array(this.ends.length * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.ends[this.count++] = this.used;
    if (this.used + 4 * this.count > this.budget) throw this.tooLarge();
  }

  /** String `index` (null for an empty one); an index past the table is a broken workbook. */
  get(index: number): string | null {
    if (!(index >= 0 && index < this.count)) throw malformed(`a cell refers to shared string ${index}, but the table has ${this.count}`);
    const slot = index % CACHE_SIZE;
    if (this.cacheKeys[slot] === index) return this.cacheValues[slot];
    const start = index === 0 ? 0 : this.ends[index - 1];
    const end = this.ends[index];
    const text = start === end ? null : this.decoder.decode(this.bytes.subarray(start, end));
    this.cacheKeys[slot] = index;
    this.cacheValues[slot] = text;
    return text;
  }

  /** Bytes held (for tests and figures). */
  get packedBytes(): number {
    return this.bytes.byteLength + this.ends.byteLength;
  }
}

/**
 * Collects the text of `<t>` runs inside one `<si>` or `<is>` (rich text is
 * the concatenation of its runs; phonetic `<rPh>` runs are skipped).
 */
export class RichText {
  private depthT = 0;
  private depthPhonetic = 0;
  text = "";

  open(name: string): void {
    if (name === "t") this.depthT++;
    else if (name === "rPh") this.depthPhonetic++;
  }
  close(name: string): void {
    if (name === "t") this.depthT--;
    else if (name === "rPh") this.depthPhonetic--;
  }
  add(text: string): void {
    if (this.depthT > 0 && this.depthPhonetic === 0) this.text += text;
  }
  take(): string {
    const t = unescapeText(this.text);
    this.text = "";
    this.depthT = this.depthPhonetic = 0;
    return t;
  }
}

export async function readSharedStrings(bytes: Bytes, part: string, budget = STRINGS_BUDGET): Promise<SharedStrings> {
  const strings = new SharedStrings(budget);
  const rich = new RichText();
  let inItem = false;
  for await (const _ of parseXml(bytes, part, {
    open(name) {
      if (name === "si") inItem = true;
      else if (inItem) rich.open(name);
    },
    close(name) {
      if (name === "si") {
        strings.add(rich.take());
        inItem = false;
      } else if (inItem) rich.close(name);
    },
    text(text) {
      if (inItem) rich.add(text);
    },
  }));
  return strings;
}
