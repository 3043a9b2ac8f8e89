/**
 * The formats a table file may have: the one list. Key extensions, the
 * `format` values sidecars and URL_TABLES accept, content types and the
 * messages that list them all come from here. To add a format, write its
 * folder (formats/<name>/index.ts implementing TableFormat) and add it to
 * FORMAT_LIST.
 */
import type { ErrorCode } from "../errors";
import { csv } from "./csv";
import type { TableFormat } from "./format";
import { json } from "./json";
import { xlsx } from "./xlsx";

const FORMAT_LIST: readonly TableFormat[] = [csv, json, xlsx];

export interface FormatRegistry {
  formats: readonly TableFormat[];
  /** Every table extension, lower case (`.gz` may follow any of them). */
  extensions: readonly [string, ...string[]];
  /** The format an extension or declared `format` names (both are among `extensions`). */
  formatOf(name: string): TableFormat | undefined;
  /** Every error code reading a table file may raise. */
  errors: readonly ErrorCode[];
  /** `.csv, .tsv, .json, .ndjson, .jsonl, .xlsx or .xlsm`, for messages. */
  listed: string;
}

export function formatRegistry(formats: readonly TableFormat[]): FormatRegistry {
  const byName = new Map<string, TableFormat>();
  for (const f of formats) for (const ext of f.extensions) byName.set(ext.toLowerCase(), f);
  const [first, ...rest] = [...byName.keys()];
  if (first === undefined) throw new Error("a format registry needs at least one format");
  const dotted = [first, ...rest].map((e) => `.${e}`);
  return {
    formats,
    extensions: [first, ...rest],
    formatOf: (name) => byName.get(name.toLowerCase()),
    errors: [...new Set(formats.flatMap((f) => f.errors))],
    listed: dotted.length === 1 ? dotted[0] : `${dotted.slice(0, -1).join(", ")} or ${dotted[dotted.length - 1]}`,
  };
}

export const FORMATS = formatRegistry(FORMAT_LIST);
