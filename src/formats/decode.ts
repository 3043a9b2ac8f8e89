/**
 * Bytes → text. UTF-8 is strict: a byte sequence that is not UTF-8 stops the
 * read with FILE_ENCODING_INVALID instead of silently producing `�` in a
 * report. UTF-16 (found by its BOM) is decoded strictly too. The other
 * supported encodings are single-byte (Windows, ISO-8859, KOI8, DOS): they map
 * every byte, so they cannot fail. Other multi-byte encodings (Shift_JIS,
 * GBK…) are refused.
 *
 * A file whose first bytes are all ASCII has not told its encoding yet
 * (`how: "ascii"`): it is read as UTF-8 until a byte proves otherwise. A
 * multi-byte UTF-8 character settles it as UTF-8; an invalid byte before any
 * of them switches the rest of the file to the single-byte encoding its next
 * lines are detected in (values/charset.ts) — the bytes before were ASCII, the
 * same in every candidate, so nothing already read changes meaning.
 */
import { AppError } from "../errors";
import type { Bytes } from "../streams/bytes";
import { CharsetEvidence, detectSingleByte, type EncodingChoice, EVIDENCE_BYTES } from "../values/charset";
import { normalizeEncoding, unsupportedEncoding } from "../values/encodings";

export type Text = AsyncGenerator<string, void, undefined>;

export const FIX_ENCODING =
  'Save the file as UTF-8, or declare its encoding in a sidecar `<file>.schema.json` with {"encoding": "windows-1251"}.';

/** How far an ASCII-so-far file is read ahead for evidence when its first non-UTF-8 byte comes. */
export const LOOKAHEAD_BYTES = 1024 * 1024;

const UTF16 = new Set(["utf-16le", "utf-16be"]);

export function makeDecoder(encoding: string): TextDecoder {
  if (UTF16.has(encoding)) return new TextDecoder(encoding, { fatal: true, ignoreBOM: false });
  const canonical = normalizeEncoding(encoding);
  if (!canonical) throw new AppError("SCHEMA_INVALID", `Unknown text encoding: ${unsupportedEncoding(encoding)}.`);
  return new TextDecoder(canonical, { fatal: canonical === "utf-8", ignoreBOM: false });
}

function invalid(encoding: string, offset: number): AppError {
  return new AppError(
    "FILE_ENCODING_INVALID",
    `The file is not valid ${encoding} (a bad byte sequence near byte ${offset}). ${FIX_ENCODING}`,
  );
}

/** `offset`: where `bytes` start in the file (for the error message). */
export async function* decodeText(bytes: Bytes, encoding: string, offset = 0): Text {
  const decoder = makeDecoder(encoding);
  try {
    for await (const chunk of bytes) {
      const text = decoder.decode(chunk, { stream: true });
      offset += chunk.byteLength;
      if (text !== "") yield text;
    }
    const tail = decoder.decode();
    if (tail !== "") yield tail;
  } catch (err) {
    if (err instanceof TypeError) throw invalid(encoding, offset);
    throw err;
  }
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Text of a file whose encoding is still open (every byte so far ASCII).
 * `decided` is told the decision once a byte makes it: UTF-8, or the
 * single-byte encoding detected from up to LOOKAHEAD_BYTES from the first
 * invalid byte on.
 */
export async function* decodeOpen(bytes: Bytes, decided: (choice: EncodingChoice) => void): Text {
  const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let offset = 0;
  let settled = false; // a multi-byte character was read: this is UTF-8
  let tail: Uint8Array = new Uint8Array(0); // the last bytes of the previous chunk (a character the decoder holds)
  const it = bytes[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      const chunk = next.value;
      let text: string;
      try {
        text = utf8.decode(chunk, { stream: true });
      } catch (err) {
        if (!(err instanceof TypeError)) throw err;
        if (settled) throw invalid("utf-8", offset);
        yield* switchToSingleByte(concatBytes(heldLead(tail), chunk), it, offset, decided);
        return;
      }
      offset += chunk.byteLength;
      tail = chunk.subarray(Math.max(0, chunk.byteLength - 3));
      // All-ASCII text has one character per byte: only a chunk that does not is searched.
      if (!settled && text.length !== chunk.byteLength && NON_ASCII.test(text)) {
        settled = true;
        decided({ encoding: "utf-8", how: "utf-8" });
      }
      if (text !== "") yield text;
    }
    let last: string;
    try {
      last = utf8.decode();
    } catch {
      // A lone lead byte at the very end: no UTF-8 character, so a single-byte file after all.
      if (settled) throw invalid("utf-8", offset);
      yield* switchToSingleByte(heldLead(tail), it, offset, decided);
      return;
    }
    if (last !== "") yield last;
  } finally {
    await it.return?.(undefined);
  }
}

/** The bytes of a character the UTF-8 decoder still holds: the high bytes ending an all-ASCII-text chunk. */
function heldLead(tail: Uint8Array): Uint8Array {
  let i = tail.byteLength;
  while (i > 0 && tail[i - 1] >= 0x80) i--;
  return tail.subarray(i);
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.byteLength === 0) return b;
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

async function* switchToSingleByte(
  first: Uint8Array,
  it: AsyncIterator<Uint8Array>,
  offset: number,
  decided: (choice: EncodingChoice) => void,
): Text {
  // Valid UTF-8 characters before the bad byte: a UTF-8 file with a bad byte, not another encoding.
  const loose = new TextDecoder("utf-8").decode(first);
  const bad = loose.indexOf("\uFFFD");
  if (bad > 0 && NON_ASCII.test(loose.slice(0, bad))) throw invalid("utf-8", offset);
  const held = [first];
  let heldBytes = first.byteLength;
  const evidence = new CharsetEvidence();
  evidence.push(first);
  let ended = false;
  while (heldBytes < LOOKAHEAD_BYTES && evidence.size < EVIDENCE_BYTES) {
    const next = await it.next();
    if (next.done) {
      ended = true;
      break;
    }
    held.push(next.value);
    heldBytes += next.value.byteLength;
    evidence.push(next.value);
  }
  const choice = detectSingleByte(evidence.evidence());
  decided(choice);
  const decoder = new TextDecoder(choice.encoding);
  for (const chunk of held) {
    const text = decoder.decode(chunk, { stream: true });
    if (text !== "") yield text;
  }
  if (!ended) {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      const text = decoder.decode(next.value, { stream: true });
      if (text !== "") yield text;
    }
  }
  const last = decoder.decode();
  if (last !== "") yield last;
}

/** Text by an encoding choice: a decided encoding, or the open ASCII-so-far reading (`decided` hears how it ends). */
export function decodeChosen(bytes: Bytes, choice: EncodingChoice, decided: (choice: EncodingChoice) => void = () => {}): Text {
  if (choice.how !== "ascii") return decodeText(bytes, choice.encoding);
  return decodeOpen(bytes, decided);
}

export function decodeSample(sample: Uint8Array, encoding: string): string {
  try {
    return makeDecoder(encoding).decode(sample, { stream: true });
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError("FILE_ENCODING_INVALID", `The file's first bytes are not valid ${encoding}. ${FIX_ENCODING}`);
  }
}
