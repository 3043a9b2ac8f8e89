/**
 * What a file format implements (one folder per format under formats/, listed
 * in formats/registry.ts). A format is told the first bytes of the file and
 * may read anywhere else in it: formats whose metadata is at the end (XLSX's
 * zip directory, Parquet's footer) use `read`, an R2 range read of the same
 * object version. It answers a RecordReader (model.ts), kept in the table's
 * description; everything after that (header, widths, types, filters,
 * output) is shared by every format.
 */
import type { ErrorCode } from "../errors";
import type { Bytes, FileAccess, ReaderDecisions, RecordReader, Sidecar } from "../model";

export interface FormatInput {
  /** The file's first bytes (at most the description sample, 1 MiB). */
  sample: Uint8Array;
  /** True when `sample` is the whole file. */
  complete: boolean;
  /** The whole file's size in bytes, when the source says it. */
  size?: number;
  /**
   * Random access to the same version of the file, when the source allows it
   * (R2 objects): `length` bytes from `offset`. Absent for a body that only
   * streams (an upload in flight, a URL): a format that needs it refuses such
   * a file with a message saying so.
   */
  read?: (offset: number, length: number) => Promise<Uint8Array>;
  /** The same as a stream, for ranges too large to hold (a zip member inflated while it arrives). */
  stream?: (offset: number, length: number) => Bytes;
}

/** The random access of an input, when it has all of it (size, read and stream). */
export function fileAccess(input: Pick<FormatInput, "size" | "read" | "stream">): FileAccess | undefined {
  const { size, read, stream } = input;
  return size !== undefined && read && stream ? { size, read, stream } : undefined;
}

export interface DetectHints {
  /** The key's extension or the declared format (one of the format's `extensions`). */
  name: string;
  /** The table's sidecar, if any (encoding, delimiter, …). */
  sidecar?: Sidecar;
  /**
   * What this format decided about this same file before (its reader's
   * `decisions()`, kept in the file's manifest): use it instead of detecting;
   * the sample may then be empty.
   */
  decided?: ReaderDecisions;
}

export interface TableFormat {
  /** The format's name, for messages. */
  name: string;
  /** Key extensions that make an object a table of this format (`.gz` may follow); also the values a sidecar's or URL table's `format` may take. */
  extensions: readonly string[];
  /** The content type an upload of this format is stored with. */
  contentType: string;
  /**
   * The format reads with random access (FormatInput.read/stream), not from
   * the first byte on: an upload is staged in the bucket before it is checked.
   */
  randomAccess?: boolean;
  /** Every error code reading a file of this format may raise. */
  errors: readonly ErrorCode[];
  /**
   * For messages about a URL that served something else: how a person calls
   * a file of this format (by its extension or declared format) and what to
   * check where it is published.
   */
  publishing(extension: string): { kind: string; hint: string };
  /** The format's files are text: bytes that are clearly something else (PDF, HTML, zip, binary) are refused before detection (formats/sniff.ts). */
  text?: boolean;
  detect(input: FormatInput, hints: DetectHints): Promise<RecordReader>;
}
