/**
 * Bytes → text. UTF-8 is strict: a byte sequence that is not UTF-8 stops the
 * read with FILE_ENCODING_INVALID instead of silently producing `�` in a
 * report. The other supported encodings are single-byte (Windows, ISO-8859,
 * KOI8, DOS): they map every byte, so they cannot fail. Multi-byte encodings
 * other than UTF-8 (UTF-16, Shift_JIS, GBK…) are refused: the CSV reader
 * splits on ASCII bytes, which those do not keep.
 */
import { AppError } from "../errors";
import type { Bytes } from "../streams/bytes";
import { normalizeEncoding, unsupportedEncoding } from "../values/encodings";

export type Text = AsyncGenerator<string, void, undefined>;

const FIX_ENCODING =
  "Save the file as UTF-8, or declare its encoding in a sidecar `<file>.schema.json` with {\"encoding\": \"windows-1251\"}.";


export function makeDecoder(encoding: string): TextDecoder {
  const canonical = normalizeEncoding(encoding);
  if (!canonical) throw new AppError("SCHEMA_INVALID", `Unknown text encoding: ${unsupportedEncoding(encoding)}.`);
  return new TextDecoder(canonical, { fatal: canonical === "utf-8", ignoreBOM: false });
}

export async function* decodeText(bytes: Bytes, encoding: string): Text {
  const decoder = makeDecoder(encoding);
  let offset = 0;
  try {
    for await (const chunk of bytes) {
      const text = decoder.decode(chunk, { stream: true });
      offset += chunk.byteLength;
      if (text !== "") yield text;
    }
    const tail = decoder.decode();
    if (tail !== "") yield tail;
  } catch (err) {
    if (err instanceof TypeError) {
      throw new AppError("FILE_ENCODING_INVALID", `The file is not valid ${encoding} (a bad byte sequence near byte ${offset}). ${FIX_ENCODING}`);
    }
    throw err;
  }
}

/** Which encoding a sample is in: UTF-8 when it decodes strictly, else Windows-1251. */
export function detectEncoding(sample: Uint8Array): "utf-8" | "windows-1251" {
  try {
    // stream: true tolerates a multi-byte character cut at the end of the sample.
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(sample, { stream: true });
    return "utf-8";
  } catch {
    return "windows-1251";
  }
}

export function decodeSample(sample: Uint8Array, encoding: string): string {
  try {
    return makeDecoder(encoding).decode(sample, { stream: true });
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError("FILE_ENCODING_INVALID", `The file's first bytes are not valid ${encoding}. ${FIX_ENCODING}`);
  }
}
