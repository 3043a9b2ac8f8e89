/**
 * A table's description: columns (code, name, type) and how to read the
 * file. Inferred from a bounded prefix — at most SAMPLE_BYTES and SAMPLE_ROWS —
 * then overridden by a declared schema, and cached per file version so
 * repeated calls do not read the file again.
 */
import type { Config, Env } from "../config/config";
import { AppError } from "../http/errors";
import { decodeSample, detectEncoding } from "../parse/decode";
import { detectDialect } from "../parse/csv";
import { detectJsonShape, jsonCellText } from "../parse/json";
import { fitRecord, headerMatches, rawRecords } from "../parse/rows";
import { peek, type Bytes } from "../source/bytes";
import { openTable, type OpenOptions } from "../source/open";
import { slashOrderOf } from "../values/types";
import { inferTypes } from "./infer";
import { assignFieldCodes, phpNonEmpty, SIDECAR_SUFFIX } from "../rules/naming";
import { parseSidecar, schemaError } from "../rules/sidecar";
import type { Column, Description, Layout, Sidecar, TableEntry, TextRow } from "../model";

export const SAMPLE_BYTES = 1024 * 1024;
export const SAMPLE_ROWS = 10_000;
// Enough for any usual header row; a longer one is simply described again.
const HEADER_PEEK_BYTES = 64 * 1024;

const isDateType = (c: Column) => c.type === "date" || c.type === "datetime";

/**
 * The columns in the order /table_description answers them: file order, except
 * that a declared main date column is moved before the other date/datetime
 * columns. The portal applies a dashboard's date range to the first
 * date/datetime field of a dataset (unless a chart names another).
 */
export function describedColumns(d: Description): Column[] {
  if (d.dateColumn === undefined) return d.columns;
  const main = d.columns[d.dateColumn];
  const firstDate = d.columns.findIndex(isDateType);
  if (firstDate === d.dateColumn) return d.columns;
  const rest = d.columns.filter((_, i) => i !== d.dateColumn);
  rest.splice(firstDate, 0, main);
  return rest;
}

// ---- cache -----------------------------------------------------------------
// Keyed on everything that shapes a description: the source (for a URL table
// its whole declaration: two tables on one URL with different formats differ),
// the content version (ETag), and the declared schema's version. A version
// that stays the same while the content changes is caught by the header check
// of every read (parse/rows.ts), which evicts the entry.

const CACHE_MAX = 256;
const cache = new Map<string, Description>();

function cacheGet(key: string | null): Description | undefined {
  if (key === null) return undefined;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // LRU: re-insert as newest
    cache.set(key, hit);
  }
  return hit;
}

/** What, besides the content version, shapes a table's description. */
function descriptionSource(entry: TableEntry): string {
  const src = entry.source;
  // An R2 key fixes the extension and gzip; a URL table declares them (and its schema).
  if (src.kind === "r2") return `r2:${src.key}`;
  const { url, format, gzip, schema } = src.table;
  return `url:${entry.code}:${JSON.stringify([url, format, gzip ?? false, schema ?? null])}`;
}

/** Drops a description (its file changed under an unchanged version): the next read describes again. */
export function forgetDescription(d: Description): void {
  for (const [key, value] of cache) if (value === d) cache.delete(key);
}

function cacheSet(key: string | null, d: Description): void {
  if (key === null) return;
  cache.set(key, d);
  if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value!);
}

// ---- sidecar ---------------------------------------------------------------

interface Declared {
  sidecar: Sidecar | undefined;
  version: string;
}

export async function loadDeclared(env: Env, entry: TableEntry): Promise<Declared> {
  const src = entry.source;
  if (src.kind === "url") return { sidecar: src.table.schema, version: JSON.stringify(src.table.schema ?? null) };
  const key = src.key + SIDECAR_SUFFIX;
  const obj = await env.DATA.get(key);
  if (!obj) return { sidecar: undefined, version: "-" };
  return { sidecar: parseSidecar(await obj.text(), `in "${key}"`), version: obj.etag };
}

// ---- inference -------------------------------------------------------------

function layoutFor(entry: TableEntry, sample: Uint8Array, declared: Sidecar | undefined): Layout {
  const format = declared?.format ?? entry.source.extension;
  if (format === "json" || format === "ndjson" || format === "jsonl") {
    const shape = detectJsonShape(decodeSample(sample, "utf-8"), format);
    return { format: "json", shape, records: "objects" }; // records refined from the first element
  }
  const encoding = declared?.encoding ?? detectEncoding(sample);
  const text = decodeSample(sample, encoding);
  const dialect = detectDialect(text, format);
  return { format: "csv", encoding, ...dialect, ...(declared?.delimiter ? { delimiter: declared.delimiter } : {}) };
}

async function sampleRecords(bytes: Bytes, layout: Layout, truncated: boolean): Promise<unknown[]> {
  const records: unknown[] = [];
  const source = rawRecords(bytes, layout, truncated);
  try {
    for await (const batch of source) {
      for (const r of batch) {
        records.push(r);
        if (records.length > SAMPLE_ROWS) return records;
      }
    }
  } finally {
    await source.return(undefined);
  }
  return records;
}

async function* once(bytes: Uint8Array): Bytes {
  yield bytes;
}

async function infer(entry: TableEntry, prefix: Uint8Array, complete: boolean, declared: Sidecar | undefined): Promise<Description> {
  if (prefix.byteLength === 0) {
    throw new AppError("FILE_EMPTY", `The file behind table "${entry.code}" is empty. Upload a file with a header row.`);
  }
  let layout = layoutFor(entry, prefix, declared);
  const records = await sampleRecords(once(prefix), layout, !complete);
  if (records.length === 0) {
    throw new AppError("FILE_EMPTY", `The file behind table "${entry.code}" has no records (its first ${prefix.byteLength} bytes hold no complete record).`);
  }

  let headers: string[];
  let header: TextRow | null = null;
  let keys: string[];
  let rows: TextRow[];
  const first = records[0];
  if (layout.format === "csv" || Array.isArray(first)) {
    if (layout.format === "json") layout = { ...layout, records: "arrays" };
    const fromJson = layout.format === "json";
    if (!Array.isArray(first)) throw new AppError("JSON_MALFORMED", "The first record of the JSON table is not an array.");
    header = first.map((h) => (fromJson ? jsonCellText(h) : (h as string)));
    headers = first.map((h, i) => phpNonEmpty((fromJson ? jsonCellText(h) : (h as string)) ?? "", `Column ${i + 1}`));
    const raw = records.slice(1).map((r, i) => {
      if (!Array.isArray(r)) throw new AppError("JSON_MALFORMED", `Record ${i + 2} is not a JSON array, but the table's first record is a header array.`);
      return r;
    });
    // Trailing unnamed columns that hold nothing (`a;b;c;;;` exports) are dropped.
    let width = headers.length;
    while (width > 1 && (first[width - 1] === "" || first[width - 1] === null) && raw.every((r) => r[width - 1] === undefined || r[width - 1] === "" || r[width - 1] === null)) width--;
    headers = headers.slice(0, width);
    keys = headers;
    rows = raw.map((r, i) => fitRecord(r, width, i + 2, fromJson));
  } else {
    const seen = new Set<string>();
    keys = [];
    for (const [i, r] of records.entries()) {
      if (r === null || typeof r !== "object" || Array.isArray(r)) {
        throw new AppError("JSON_MALFORMED", `Record ${i + 1} is not a JSON object, but the table's first record is one.`);
      }
      for (const k of Object.keys(r)) if (!seen.has(k)) seen.add(k), keys.push(k);
    }
    headers = keys.map((k, i) => phpNonEmpty(k, `Column ${i + 1}`));
    rows = records.map((r) => keys.map((k) => jsonCellText((r as Record<string, unknown>)[k])));
  }

  const decimalComma =
    declared?.decimalSeparator !== undefined
      ? declared.decimalSeparator === ","
      : layout.format === "csv" && layout.delimiter !== ",";
  const inferred = inferTypes(rows, headers.length, decimalComma);
  const codes = assignFieldCodes(headers);
  const declaredOrder = declared?.dateFormat;
  const columns: Column[] = headers.map((name, i) => ({
    code: codes[i],
    name,
    type: inferred[i].type,
    slashOrder: declaredOrder ? slashOrderOf(declaredOrder, "mdy") : inferred[i].slashOrder,
  }));
  applyDeclaredColumns(columns, keys, declared, entry);
  const dateColumn = declaredDateColumn(columns, keys, declared, entry);
  return { columns, keys, header, layout, decimalComma, ...(dateColumn !== undefined ? { dateColumn } : {}) };
}

function sidecarPlace(entry: TableEntry): string {
  return entry.source.kind === "r2" ? `in "${entry.source.key}${SIDECAR_SUFFIX}"` : `of URL table "${entry.code}"`;
}

/** The sidecar's `dateColumn` (header text, JSON key or code) as a column index; it must be a date or datetime. */
function declaredDateColumn(columns: Column[], keys: string[], declared: Sidecar | undefined, entry: TableEntry): number | undefined {
  const wanted = declared?.dateColumn;
  if (wanted === undefined) return undefined;
  const i = keys.findIndex((k, j) => k === wanted || columns[j].name === wanted || columns[j].code === wanted.toUpperCase());
  if (i < 0) throw schemaError(sidecarPlace(entry), `dateColumn: "${wanted}" is not a column of the file (its columns are: ${columns.map((c) => c.name).join(", ")})`);
  if (!isDateType(columns[i])) {
    throw schemaError(sidecarPlace(entry), `dateColumn: "${wanted}" is a ${columns[i].type} column, but it must be a date or datetime one (declare its type in columns if inference got it wrong)`);
  }
  return i;
}

function applyDeclaredColumns(columns: Column[], keys: string[], declared: Sidecar | undefined, entry: TableEntry): void {
  const where = sidecarPlace(entry);
  for (const [header, override] of Object.entries(declared?.columns ?? {})) {
    const i = keys.findIndex((k, j) => k === header || columns[j].name === header || columns[j].code === header.toUpperCase());
    if (i < 0) throw schemaError(where, `columns: "${header}" is not a column of the file (its columns are: ${columns.map((c) => c.name).join(", ")})`);
    if (override.code) columns[i].code = override.code;
    if (override.name) columns[i].name = override.name;
    if (override.type) columns[i].type = override.type;
  }
  const codes = new Set<string>();
  for (const c of columns) {
    if (codes.has(c.code)) throw schemaError(where, `two columns have the code "${c.code}"`);
    codes.add(c.code);
  }
}

// ---- entry points ----------------------------------------------------------

export interface Described {
  description: Description;
  /** The whole file from its first byte (replayed prefix + rest). */
  bytes: Bytes;
}

/**
 * Opens the table and describes it from the same read. With `prefixOnly`, the
 * source is asked for at most SAMPLE_BYTES (an R2 range read).
 */
export async function describe(env: Env, config: Config, entry: TableEntry, options: { prefixOnly?: boolean; signal?: AbortSignal } = {}): Promise<Described> {
  const declared = await loadDeclared(env, entry);
  const open: OpenOptions = { ...(options.prefixOnly ? { prefixBytes: SAMPLE_BYTES } : {}), signal: options.signal, sampleBytes: SAMPLE_BYTES };
  const opened = await openTable(env, config, entry, open);
  const sourceId = descriptionSource(entry);
  const cacheKey = opened.version === null ? null : `${sourceId}|${opened.version}|${declared.version}`;
  const cached = cacheGet(cacheKey);
  let bytes = opened.bytes;
  if (cached && !options.prefixOnly) return { description: cached, bytes }; // tableRows checks the header
  if (cached) {
    // A description-only read checks the header here: the ETag may have stayed while the columns moved.
    const prefix = await peek(bytes, HEADER_PEEK_BYTES);
    if (await headerMatches(once(prefix.bytes), cached)) return { description: cached, bytes: prefix.all };
    forgetDescription(cached);
    bytes = prefix.all; // described again from the same read
  }
  const described = await describeStream(entry, bytes, declared.sidecar, (read) =>
    // A range read ends where the range does: complete only if that is the file's end.
    !opened.rangeLimited || (opened.size !== undefined ? read >= opened.size : read < SAMPLE_BYTES),
  );
  cacheSet(cacheKey, described.description);
  return described;
}

/**
 * Describes a table from a stream of its bytes (from the first byte): infers
 * from the first SAMPLE_BYTES and hands back the whole stream for reading on.
 * `endIsFileEnd` says whether a stream that ended within the sample is the
 * whole file (false for a range read that was cut).
 */
export async function describeStream(
  entry: TableEntry,
  bytes: Bytes,
  declared: Sidecar | undefined,
  endIsFileEnd: (read: number) => boolean = () => true,
): Promise<Described> {
  const prefix = await peek(bytes, SAMPLE_BYTES);
  const complete = prefix.complete && endIsFileEnd(prefix.bytes.byteLength);
  try {
    const description = await infer(entry, prefix.bytes, complete, declared);
    return { description, bytes: prefix.all };
  } catch (err) {
    await prefix.all.return(undefined);
    throw err;
  }
}
