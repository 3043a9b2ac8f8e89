/**
 * The shared strings table (xl/sharedStrings.xml), read once before the
 * sheet and kept packed: UTF-8 in 1 MiB pages (filled in order, never
 * copied) and the end offset of each string, instead of a JS string per entry (V8's ~20 bytes per string
 * plus 2 per char). A cell decodes its string when it is read, through a
 * small cache (columns repeat their values). Over STRINGS_BUDGET the
 * workbook is refused with the figure (docs/design/xlsx-and-exports.md §4).
 *
 * A read that is not compiled parses the whole table first, so what it costs
 * is bounded by what is parsed, not by what is kept: at most STRINGS_XML_BYTES
 * of XML and MAX_SHARED_STRINGS entries (about 2.5 s of CPU at both bounds;
 * 2.8 M short strings in 53 MB of XML took 16 s a read while their text fit
 * the budget several times over).
 */
import { AppError } from "../../errors";
import type { Bytes } from "../../model";
import { unescapeText } from "./cells";
import { parseXml } from "./xml";
import { malformed } from "./zip";

export const STRINGS_BUDGET = 48 * 1024 * 1024;
/** The shared strings part's inflated XML, at most (Excel's 1,000,000-row exports hold ~37 MB). */
export const STRINGS_XML_BYTES = 48 * 1024 * 1024;
/** Entries of the shared strings table, at most. */
export const MAX_SHARED_STRINGS = 1_048_576;

const CSV_INSTEAD = "Save the sheet as CSV UTF-8 and upload that (CSV is read as a stream, of any size).";

/** The shared strings part is more XML than a read may parse. */
export function stringsXmlTooLarge(part: string, bytes: number): AppError {
  return new AppError(
    "XLSX_TOO_LARGE",
    `The workbook's shared strings (${part}) are ${(bytes / 1024 / 1024).toFixed(1)} MB of XML; at most ${STRINGS_XML_BYTES / 1024 / 1024} MB are read (every read of the sheet parses them whole): too large to serve. ${CSV_INSTEAD}`,
  );
}
const CACHE_SIZE = 1024;
/** Strings live in pages of this size (a string never spans two), so the table grows without copying. */
const PAGE_BYTES = 1024 * 1024;
const PAGE_SHIFT = 20;
/** Offsets presized from the part's declared count at most (1 MB). */
const PRESIZE = 1 << 18;

export class SharedStrings {
  private readonly pages: Uint8Array[] = [];
  private page = new Uint8Array(0);
  /** Where the next string goes in `page`. */
  private at = 0;
  /** The global end offset (page × PAGE_BYTES + offset) of each string. */
  private ends: Uint32Array;
  count = 0;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private readonly cacheKeys = new Int32Array(CACHE_SIZE).fill(-1);
  private readonly cacheValues: (string | null)[] = new Array(CACHE_SIZE).fill(null);

  /** `expected`: the count the part declares (`uniqueCount`), a hint only. */
  constructor(
    private readonly budget = STRINGS_BUDGET,
    expected = 0,
  ) {
    // The hint is the file's word, not a fact: it presizes at most PRESIZE entries, doubling covers the rest.
    this.ends = new Uint32Array(Math.max(1024, Math.min(expected, PRESIZE, budget / 4)));
  }

  private tooLarge(): AppError {
    return new AppError(
      "XLSX_TOO_LARGE",
      `The workbook's shared strings take more than ${Math.round(this.budget / 1024 / 1024)} MB (${this.count} strings read so far): too large to serve. Save the sheet as CSV UTF-8 and upload that (CSV is read as a stream, of any size).`,
    );
  }

  add(text: string): void {
    let written: number;
    if (3 * text.length <= this.page.length - this.at) written = this.encoder.encodeInto(text, this.page.subarray(this.at)).written;
    else {
      // The quick bound (3 bytes a char) says it may not fit: its exact size decides, so a page is not left two-thirds empty.
      const bytes = this.encoder.encode(text);
      if (bytes.length > PAGE_BYTES) {
        throw new AppError(
          "XLSX_TOO_LARGE",
          `A shared string of the workbook is longer than ${PAGE_BYTES} bytes (Excel's own limit is 32,767 characters): too large to serve. Save the sheet as CSV UTF-8 and upload that.`,
        );
      }
      if (bytes.length > this.page.length - this.at) {
        if (this.pages.length > 0 || this.page.length > 0) this.pages.push(this.page);
        this.page = new Uint8Array(PAGE_BYTES);
        this.at = 0;
      }
      this.page.set(bytes, this.at);
      written = bytes.length;
    }
    this.at += written;
    if (this.count === this.ends.length) {
      const grown = new Uint32Array(this.ends.length * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.ends[this.count++] = this.pages.length * PAGE_BYTES + this.at;
    // The pages as made (what a page could not take counts too: it is held), not only the bytes written.
    if (this.pages.length * PAGE_BYTES + this.at + 4 * this.count > this.budget) throw this.tooLarge();
  }

  /** String `index` (null for an empty one); an index past the table is a broken workbook. */
  get(index: number): string | null {
    if (!(index >= 0 && index < this.count)) throw malformed(`a cell refers to shared string ${index}, but the table has ${this.count}`);
    const slot = index % CACHE_SIZE;
    if (this.cacheKeys[slot] === index) return this.cacheValues[slot];
    const end = this.ends[index];
    const previous = index === 0 ? 0 : this.ends[index - 1];
    let text: string | null = null;
    if (end !== previous) {
      // A string that did not fit its predecessor's page starts its own.
      const pageNo = (end - 1) >>> PAGE_SHIFT;
      const start = Math.max(previous, pageNo * PAGE_BYTES);
      const page = pageNo < this.pages.length ? this.pages[pageNo] : this.page;
      text = this.decoder.decode(page.subarray(start - pageNo * PAGE_BYTES, end - pageNo * PAGE_BYTES));
    }
    this.cacheKeys[slot] = index;
    this.cacheValues[slot] = text;
    return text;
  }

  /** Bytes held (for tests and figures). */
  get packedBytes(): number {
    return (this.pages.length + 1) * PAGE_BYTES + this.ends.byteLength;
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

export async function readSharedStrings(
  bytes: Bytes,
  part: string,
  budget = STRINGS_BUDGET,
  maxCount = MAX_SHARED_STRINGS,
): Promise<SharedStrings> {
  let strings = new SharedStrings(budget);
  const rich = new RichText();
  let inItem = false;
  for await (const _ of parseXml(bytes, part, {
    open(name, a) {
      if (name === "sst" && strings.count === 0) strings = new SharedStrings(budget, Number(a.uniqueCount ?? a.count ?? 0) || 0);
      else if (name === "si") inItem = true;
      else if (inItem) rich.open(name);
    },
    close(name) {
      if (name === "si") {
        if (strings.count >= maxCount) {
          throw new AppError(
            "XLSX_TOO_LARGE",
            `The workbook's shared strings (${part}) hold more than ${maxCount} entries; at most ${maxCount} are read (every read of the sheet parses them whole): too large to serve. ${CSV_INSTEAD}`,
          );
        }
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
