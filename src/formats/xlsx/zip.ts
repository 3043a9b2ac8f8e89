/**
 * A workbook's zip, read with range reads (FileAccess: R2 pinned to one
 * etag), never as a whole. unzipit parses the end-of-central-directory
 * record, ZIP64 and the directory; the parts are inflated here with the
 * platform's DecompressionStream, paced like gunzip (streams/gunzip.ts) so a
 * part is never queued in memory whatever its ratio.
 *
 * Bombs are refused before they are read: the directory is at most
 * MAX_DIRECTORY_BYTES and MAX_ENTRIES entries, a part's declared inflated
 * size at most MAX_PART_BYTES and MAX_RATIO times its compressed size; then
 * the inflated stream must be exactly its declared size.
 */
import { type Reader, unzipRaw, type ZipEntry } from "unzipit";
import { AppError } from "../../errors";
import type { Bytes, FileAccess } from "../../model";
import { inflateRaw, MAX_RATIO } from "../../streams/gunzip";

/** The EOCD record (22 bytes) plus the longest zip comment: unzipit's first read. */
const EOCD_SEARCH_BYTES = 22 + 0xffff;
/** Excel's directory is a few KB; 1 MiB is ~20,000 entries. */
export const MAX_DIRECTORY_BYTES = 1024 * 1024;
export const MAX_ENTRIES = 10_000;
/** 1 GiB of XML is ~4 million rows of 10 cells: more than a request's CPU can parse. */
export const MAX_PART_BYTES = 1024 * 1024 * 1024;
/** Below this a part's ratio is not checked (small XML compresses very well). */
const RATIO_FREE_BYTES = 1024 * 1024;

export interface ZipPart {
  name: string;
  method: number;
  encrypted: boolean;
  compressedSize: number;
  size: number;
  localHeader: number;
}

export interface Zip {
  /** Parts by name, lower case (OPC part names are case-insensitive). */
  parts: Map<string, ZipPart>;
}

export function malformed(detail: string): AppError {
  return new AppError(
    "XLSX_MALFORMED",
    `The workbook cannot be read: ${detail}. Open it in Excel or LibreOffice and save it again as .xlsx (Excel Workbook), or save the sheet as CSV UTF-8.`,
  );
}

function tooLarge(detail: string): AppError {
  return new AppError(
    "XLSX_TOO_LARGE",
    `The workbook is too large to serve: ${detail}. Save the sheet as CSV UTF-8 and upload that (CSV is read as a stream, of any size).`,
  );
}

/** unzipit's Reader over FileAccess, refusing reads a sane directory never needs. */
function reader(access: FileAccess): Reader {
  return {
    getLength: async () => access.size,
    read: async (offset, length) => {
      if (length > Math.max(EOCD_SEARCH_BYTES, MAX_DIRECTORY_BYTES)) {
        throw tooLarge(`its zip directory declares ${length} bytes (at most ${MAX_DIRECTORY_BYTES} are read)`);
      }
      if (offset < 0 || offset + length > access.size)
        throw malformed(`its zip directory points past the end of the file (bytes ${offset}–${offset + length} of ${access.size})`);
      const bytes = await access.read(offset, length);
      return new Uint8Array(bytes) as Uint8Array<ArrayBuffer>;
    },
  };
}

// unzipit keeps the local header offset and the flags in the raw entry only (unzipit 2.1.1, pinned).
interface RawEntry {
  relativeOffsetOfLocalHeader: number;
}
const rawOf = (e: ZipEntry) => (e as unknown as { _rawEntry: RawEntry })._rawEntry;

export async function openZip(access: FileAccess): Promise<Zip> {
  let entries: ZipEntry[];
  try {
    entries = (await unzipRaw(reader(access))).entries;
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw malformed(`it is not a valid zip archive (${(err as Error).message})`);
  }
  if (entries.length > MAX_ENTRIES)
    throw tooLarge(`its zip holds ${entries.length} entries (at most ${MAX_ENTRIES}; Excel writes a few dozen)`);
  const parts = new Map<string, ZipPart>();
  for (const e of entries) {
    parts.set(e.name.toLowerCase(), {
      name: e.name,
      method: e.compressionMethod,
      encrypted: e.encrypted,
      compressedSize: e.compressedSize,
      size: e.size,
      localHeader: rawOf(e).relativeOffsetOfLocalHeader,
    });
  }
  return { parts };
}

const u16 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);

/** Whether a part's declared sizes are acceptable, before anything is inflated. */
function checkDeclared(part: ZipPart, maxBytes: number): void {
  if (part.encrypted) throw malformed(`its part ${part.name} is encrypted (save the workbook without a password)`);
  if (part.method !== 0 && part.method !== 8)
    throw malformed(`its part ${part.name} uses zip compression method ${part.method} (only stored and deflate are read)`);
  if (part.size > maxBytes) throw tooLarge(`its part ${part.name} inflates to ${part.size} bytes (at most ${maxBytes} are read)`);
  if (part.method === 8 && part.size > RATIO_FREE_BYTES && part.size > MAX_RATIO * part.compressedSize) {
    throw tooLarge(
      `its part ${part.name} declares ${part.size} bytes from ${part.compressedSize} compressed, more than ${MAX_RATIO} times: a decompression bomb, not a sheet`,
    );
  }
  if (part.method === 0 && part.compressedSize !== part.size)
    throw malformed(`its stored part ${part.name} has ${part.compressedSize} bytes but declares ${part.size}`);
}

/**
 * A part's inflated bytes as a stream; exactly its declared size or an error.
 * `maxBytes` caps the declared size (small metadata parts get a small cap).
 */
export function partBytes(access: FileAccess, part: ZipPart, maxBytes = MAX_PART_BYTES): Bytes {
  return (async function* (): Bytes {
    checkDeclared(part, maxBytes);
    const header = await access.read(part.localHeader, 30);
    if (header.byteLength < 30 || header[0] !== 0x50 || header[1] !== 0x4b || header[2] !== 0x03 || header[3] !== 0x04) {
      throw malformed(`its part ${part.name} has no local file header at byte ${part.localHeader}`);
    }
    // The local header's name and extra lengths may differ from the directory's.
    const start = part.localHeader + 30 + u16(header, 26) + u16(header, 28);
    if (start + part.compressedSize > access.size)
      throw malformed(`its part ${part.name} runs past the end of the file (the file is cut short?)`);
    const raw = part.compressedSize === 0 ? empty() : access.stream(start, part.compressedSize);
    const inflated =
      part.method === 8
        ? inflateRaw(raw, {
            invalid: (err) => malformed(`its part ${part.name} is not valid deflate data (${err.message})`),
            bomb: (out, inBytes) =>
              tooLarge(
                `its part ${part.name} inflates more than ${MAX_RATIO} times (${out} bytes from the first ${inBytes}): a decompression bomb, not a sheet`,
              ),
          })
        : raw;
    let seen = 0;
    try {
      for await (const chunk of inflated) {
        seen += chunk.byteLength;
        if (seen > part.size) throw malformed(`its part ${part.name} inflates past its declared ${part.size} bytes`);
        yield chunk;
      }
    } finally {
      await inflated.return(undefined);
    }
    if (seen !== part.size) throw malformed(`its part ${part.name} inflates to ${seen} bytes, not its declared ${part.size}`);
  })();
}

async function* empty(): Bytes {}
