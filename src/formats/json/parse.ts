/**
 * JSON tables, streamed: an array of records (`[{…},{…}]` or `[[header…],[…]]`)
 * through @streamparser/json, which emits one element at a time and keeps no
 * stack; NDJSON one line at a time with the native JSON.parse.
 */
import { JSONParser } from "@streamparser/json";
import { AppError } from "../../errors";
import type { Bytes } from "../../streams/bytes";
import { decodeText } from "../decode";
import { numberText } from "../xlsx/cells";

/** One array of records, or one record per line. */
export type JsonShape = "array" | "ndjson";
export type Elements = AsyncGenerator<unknown[], void, undefined>;

const BOM = [0xef, 0xbb, 0xbf];
const hasBom = (c: Uint8Array) => c.length >= 3 && c[0] === BOM[0] && c[1] === BOM[1] && c[2] === BOM[2];

// As for CSV records: one element longer than this is a broken file, not data.
const MAX_ELEMENT_CHARS = 16 * 1024 * 1024;

function tooLong(record: number): Error {
  return malformed(`record ${record} is longer than 16 MB`);
}

function malformed(detail: string): Error {
  return new AppError(
    "JSON_MALFORMED",
    `The JSON file is not valid: ${detail.replace(/\.+$/, "")}. Check that it was exported completely.`,
  );
}

/** Which JSON layout a sample shows. `.json` starting with `{` is read as one object per line. */
export function detectJsonShape(sample: string, extension: string): JsonShape {
  if (extension === "ndjson" || extension === "jsonl") return "ndjson";
  const first = sample.replace(/^\uFEFF/, "").trimStart()[0];
  if (first === "[") return "array";
  if (first === "{") return "ndjson";
  throw malformed(
    first === undefined
      ? "the file is empty"
      : `it starts with "${first}", but a table must be an array of objects or arrays ([…]) or one object per line (NDJSON)`,
  );
}

export async function* jsonElements(bytes: Bytes, shape: JsonShape, options: { truncated?: boolean } = {}): Elements {
  if (shape === "ndjson") {
    yield* ndjsonElements(bytes, options.truncated ?? false);
    return;
  }
  const parser = new JSONParser({ paths: ["$.*"], keepStack: false });
  let batch: unknown[] = [];
  parser.onValue = ({ value }) => {
    batch.push(value);
  };
  let first = true;
  let records = 0;
  // Bytes since the last complete element: the parser holds an unfinished
  // element in memory, so one that never ends must stop the read.
  let open = 0;
  for await (let chunk of bytes) {
    if (first && hasBom(chunk)) chunk = chunk.subarray(3);
    first = false;
    try {
      parser.write(chunk);
    } catch (err) {
      throw malformed((err as Error).message);
    }
    if (batch.length > 0) {
      records += batch.length;
      open = 0;
      yield batch;
      batch = [];
    } else if ((open += chunk.byteLength) > MAX_ELEMENT_CHARS) throw tooLong(records + 1);
  }
  if (options.truncated) return;
  try {
    // The parser ends by itself once the top-level array closes.
    if (!parser.isEnded) parser.end();
  } catch (err) {
    throw malformed((err as Error).message);
  }
  if (batch.length > 0) yield batch;
}

async function* ndjsonElements(bytes: Bytes, truncated: boolean): Elements {
  let pending = "";
  let line = 0;
  const parseLines = (lines: string[]): unknown[] => {
    const out: unknown[] = [];
    for (const text of lines) {
      line++;
      if (text.trim() === "") continue;
      try {
        out.push(JSON.parse(text));
      } catch (err) {
        throw malformed(`line ${line}: ${(err as Error).message}`);
      }
    }
    return out;
  };
  for await (const chunk of decodeText(bytes, "utf-8")) {
    // Only the new text can hold the line end: searching all of `pending`
    // again per chunk would be quadratic on one long line.
    const inChunk = chunk.lastIndexOf("\n");
    if (inChunk < 0) {
      pending += chunk;
      if (pending.length > MAX_ELEMENT_CHARS) throw tooLong(line + 1);
      continue;
    }
    const batch = parseLines((pending + chunk.slice(0, inChunk)).split("\n"));
    pending = chunk.slice(inChunk + 1);
    if (batch.length > 0) yield batch;
  }
  if (!truncated && pending.trim() !== "") yield parseLines([pending]);
}

/**
 * A JSON value as cell text: nested objects and arrays as JSON text; numbers
 * as a CSV holds them, without exponents for usual magnitudes (`1e-7` is
 * `0.0000001`), as XLSX numbers are: a numeric column reads no exponent.
 */
export function jsonCellText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number") return numberText(value);
  if (typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
