/**
 * A table's description: columns (code, name, type) and how to read the
 * file. Inferred from a bounded prefix — at most SAMPLE_BYTES and SAMPLE_ROWS —
 * then overridden by the sidecar, and cached per file version so
 * repeated calls do not read the file again.
 */
import type { Config, Env } from "../config/config";
import { AppError } from "../errors";
import { type FormatInput, fileAccess, type TableFormat } from "../formats/format";
import { FORMATS, type FormatRegistry } from "../formats/registry";
import { FooterFilter, findHeader, type HeaderFound, LAYOUT_ROWS, MAX_HELD_TOTALS } from "../formats/report-layout";
import { cellTextOf, fitRecord, headerMatches } from "../formats/rows";
import { notATable, sniffContent } from "../formats/sniff";
import type { Column, Description, FileAccess, FooterRow, FooterRule, Layout, RecordReader, Sidecar, TableEntry, TextRow } from "../model";
import { assignFieldCodes, phpNonEmpty, sidecarKey } from "../rules/naming";
import { parseSidecar, sidecarError } from "../rules/sidecar";
import { type OpenOptions, openTable, rangeAccess } from "../source/open";
import { type Bytes, peek } from "../streams/bytes";
import { isNumericType, slashOrderOf } from "../values/types";
import { type ReadingParts, readingIdentity, sourceOf } from "./identity";
import { inferTypes } from "./infer";
import { type Manifest, manifestWrites, readManifest } from "./manifest";

export const SAMPLE_BYTES = 1024 * 1024;
export const SAMPLE_ROWS = 10_000;
/**
 * Cells (rows × columns) of the sample typed at most (32 MB of slots): a wide
 * table is typed from fewer rows. 10,000 rows of 20,000 columns were 1.6 GB,
 * and 10,000 JSON objects of one new key each 10⁸ cells, from 1 MiB of file.
 */
export const SAMPLE_CELLS = 1 << 22;
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
// Keyed by the reading's identity before it is described (identity.ts): the
// source (for a URL table its whole declaration), the content version (ETag),
// the sidecar's version and the configuration that changes reading. A version
// that stays the same while the content changes is caught by the header check
// of every read (formats/rows.ts), which evicts the entry.

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

/** Drops a description (its file changed under an unchanged version): the next read describes again. */
export function forgetDescription(d: Description): void {
  for (const [key, value] of cache) if (value === d) cache.delete(key);
}

/**
 * Forgets every description and every manifest found missing, as a new isolate starts: for tests that
 * change stored objects behind the Worker's back (a manifest edited under an unchanged identity) or
 * compare an answer with a fresh Worker's.
 */
export function forgetDescriptions(): void {
  cache.clear();
  noManifest.clear();
}

function cacheSet(key: string | null, d: Description): void {
  if (key === null) return;
  cache.set(key, d);
  if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value!);
}

// ---- sidecar ---------------------------------------------------------------

interface LoadedSidecar {
  sidecar: Sidecar | undefined;
  version: string;
}

export async function loadSidecar(env: Env, entry: TableEntry): Promise<LoadedSidecar> {
  const src = entry.source;
  if (src.kind === "url") return { sidecar: src.table.schema, version: JSON.stringify(src.table.schema ?? null) };
  const key = sidecarKey(src.key);
  const obj = await env.DATA.get(key);
  if (!obj) return { sidecar: undefined, version: "-" };
  return { sidecar: parseSidecar(await obj.text(), `in "${key}"`), version: obj.etag };
}

// ---- inference -------------------------------------------------------------

/** The format a table's file has: declared in its sidecar, else its extension's. */
function formatFor(entry: TableEntry, sidecar: Sidecar | undefined, formats: FormatRegistry): { format: TableFormat; name: string } {
  const name = sidecar?.format ?? entry.source.extension;
  const format = formats.formatOf(name);
  if (!format)
    throw new AppError(
      "SCHEMA_INVALID",
      `Table "${entry.code}" has the format "${name}", which the connector does not read (it reads ${formats.listed}).`,
    );
  return { format, name };
}

async function sampleRecords(bytes: Bytes, reader: RecordReader, truncated: boolean, access: FileAccess | undefined): Promise<unknown[]> {
  const records: unknown[] = [];
  const source = reader.records(bytes, truncated, { access });
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

/** The columns of a positional table from its header record and the records below it: names, widths, cell text. */
function positional(first: unknown[], below: unknown[], reader: RecordReader) {
  const header: TextRow = first.map((h) => cellTextOf(reader, h));
  let headers = header.map((h, i) => phpNonEmpty(h ?? "", `Column ${i + 1}`));
  const raw = below.map((r, i) => {
    if (!Array.isArray(r))
      throw new AppError(
        reader.malformed.code,
        `Record ${i + 2} is not a ${reader.format} array, but the table's first record is a header array.`,
      );
    return r;
  });
  // Trailing unnamed columns that hold nothing (`a;b;c;;;` exports) are dropped.
  // One pass over the cells (not one per dropped column: a header of 200,000 commas over 10,000 rows was 2·10⁹ looks).
  const empty = (c: unknown) => c === undefined || c === "" || c === null;
  let width = headers.length;
  while (width > 1 && empty(first[width - 1])) width--;
  for (const r of raw) {
    if (width >= headers.length) break;
    for (let i = Math.min(r.length, headers.length); i > width; i--) {
      if (!empty(r[i - 1])) {
        width = i;
        break;
      }
    }
  }
  headers = headers.slice(0, width);
  // Within SAMPLE_CELLS (one row at least): a wide table is typed from fewer rows.
  const taken = raw.length <= SAMPLE_CELLS / width ? raw : raw.slice(0, Math.max(1, Math.floor(SAMPLE_CELLS / width)));
  return { header, headers, keys: headers, rows: taken.map((r, i) => fitRecord(r, width, i + 2, reader)), cut: taken.length < raw.length };
}

const isBlankRecord = (r: unknown) => Array.isArray(r) && r.length === 0;

/** Where the header is: the sidecar's headerRow/skipRows, else detected (formats/report-layout.ts). */
function headerOf(
  records: unknown[],
  reader: RecordReader,
  sidecar: Sidecar | undefined,
  entry: TableEntry,
): HeaderFound & { declared: boolean } {
  const { headerRow, skipRows } = sidecar ?? {};
  const wanted = headerRow ?? (skipRows !== undefined ? skipRows + 1 : undefined);
  const texts = records
    .slice(0, Math.max(LAYOUT_ROWS, wanted ?? 0))
    .map((r) => (Array.isArray(r) ? r.map((c) => cellTextOf(reader, c)) : []));
  if (wanted === undefined) return { ...findHeader(texts), declared: false };
  const where = sidecarPlace(entry);
  if (headerRow !== undefined && skipRows !== undefined && headerRow !== skipRows + 1) {
    throw sidecarError(
      where,
      `headerRow ${headerRow} and skipRows ${skipRows} disagree (skipRows counts the rows above the header: headerRow − 1); give one of them`,
    );
  }
  if (wanted > records.length || isBlankRecord(records[wanted - 1])) {
    const what = wanted > records.length ? `beyond the ${records.length} rows the connector reads to describe the file` : "a blank line";
    throw sidecarError(
      where,
      `${headerRow !== undefined ? "headerRow" : "skipRows"}: row ${wanted} of the file is ${what}, not the header (rows are counted from 1, blank lines included)`,
    );
  }
  const skipped = texts
    .slice(0, wanted - 1)
    .map((r, i) => ({ row: i + 1, reason: r.every((c) => c === null || c.trim() === "") ? ("empty" as const) : ("title" as const) }));
  return { index: wanted - 1, skipped, declared: true };
}

/** The columns of a table of objects: the union of keys in the sample, in order of first appearance. */
function keyed(records: unknown[], reader: RecordReader) {
  const seen = new Set<string>();
  const keys: string[] = [];
  const objects: object[] = [];
  for (const [i, r] of records.entries()) {
    if (r === null || typeof r !== "object" || Array.isArray(r)) {
      throw new AppError(reader.malformed.code, `Record ${i + 1} is not a ${reader.format} object, but the table's first record is one.`);
    }
    const before = keys.length;
    for (const k of Object.keys(r)) if (!seen.has(k)) seen.add(k), keys.push(k);
    // Within SAMPLE_CELLS (the first record always): the keys of a record past it are not columns.
    if (i > 0 && (i + 1) * keys.length > SAMPLE_CELLS) {
      for (const k of keys.splice(before)) seen.delete(k);
      break;
    }
    objects.push(r);
  }
  const headers = keys.map((k, i) => phpNonEmpty(k, `Column ${i + 1}`));
  const rows = objects.map((r) => keys.map((k) => cellTextOf(reader, Reflect.get(r, k))));
  return { header: null, headers, keys, rows };
}

async function infer(entry: TableEntry, input: FormatInput, sidecar: Sidecar | undefined, formats: FormatRegistry): Promise<Description> {
  const prefix = input.sample;
  if (prefix.byteLength === 0) {
    throw new AppError("FILE_EMPTY", `The file behind table "${entry.code}" is empty. Upload a file with a header row.`);
  }
  const { format, name } = formatFor(entry, sidecar, formats);
  const sniffed = format.text ? sniffContent(prefix) : null;
  if (sniffed) throw notATable(sniffed, format.name, entry.code);
  const reader = await format.detect(input, { name, sidecar });
  const records = await sampleRecords(once(prefix), reader, !input.complete, fileAccess(input));
  if (records.length === 0 && !input.complete) {
    // Not empty: the sample ended inside the first record. The description is inferred from the sample,
    // so such a file cannot be described (and calling it empty sent people looking in the wrong place).
    throw new AppError(
      reader.malformed.code,
      `The first record of table "${entry.code}" does not end within the first ${SAMPLE_BYTES} bytes (1 MiB) of its file, which are what the connector reads to describe a table: either that record is larger than 1 MiB (keep every record under 1 MiB: put large nested values in their own records or columns), or it is broken (a quote, bracket or brace that is never closed).`,
    );
  }
  if (records.length === 0) {
    throw new AppError(
      "FILE_EMPTY",
      `The file behind table "${entry.code}" has no records (its ${prefix.byteLength} bytes hold no complete record).`,
    );
  }
  const firstRecord = records.findIndex((r) => !isBlankRecord(r));
  if (firstRecord < 0) {
    const where = records.length > SAMPLE_ROWS ? `its first ${SAMPLE_ROWS} lines are blank` : "it has only blank lines";
    throw new AppError("FILE_EMPTY", `The file behind table "${entry.code}" holds no table: ${where}. Upload a file with a header row.`);
  }
  const decimalComma = sidecar?.decimalSeparator !== undefined ? sidecar.decimalSeparator === "," : reader.decimalComma;
  const numbers = { decimalComma, ...(sidecar?.decimalSeparator ? { declared: sidecar.decimalSeparator } : {}) };
  const codesAndTypes = (headers: string[], keys: string[], rows: TextRow[]) => {
    const inferred = inferTypes(rows, headers.length, numbers);
    const codes = assignFieldCodes(headers);
    const declaredOrder = sidecar?.dateFormat;
    const columns: Column[] = headers.map((name, i) => ({
      code: codes[i],
      name,
      type: inferred[i].type,
      slashOrder: declaredOrder ? slashOrderOf(declaredOrder, "mdy") : inferred[i].slashOrder,
      numberFormat: inferred[i].numberFormat,
    }));
    applySidecarColumns(columns, keys, sidecar, entry);
    return columns;
  };
  const finish = (columns: Column[], keys: string[], header: TextRow | null, layout?: Layout): Description => {
    const dateColumn = sidecarDateColumn(columns, keys, sidecar, entry);
    return {
      columns,
      keys,
      header,
      reader,
      decimalComma,
      ...(dateColumn !== undefined ? { dateColumn } : {}),
      ...(layout ? { layout } : {}),
    };
  };
  if (!Array.isArray(records[firstRecord])) {
    const { headers, keys, rows } = keyed(records, reader);
    return finish(codesAndTypes(headers, keys, rows), keys, null);
  }

  // A positional table: header row, title rows above it, footer below the data.
  const found = headerOf(records, reader, sidecar, entry);
  const first = records[found.index];
  if (!Array.isArray(first))
    throw new AppError(
      reader.malformed.code,
      `The first record of the ${reader.format} table is not an array, but the table's records are arrays.`,
    );
  const belowAt: number[] = [];
  const below: unknown[] = [];
  for (let i = found.index + 1; i < records.length; i++) {
    if (isBlankRecord(records[i])) continue;
    below.push(records[i]);
    belowAt.push(i + 1);
  }
  const { header, headers, keys, rows, cut } = positional(first, below, reader);
  // The footer is known here only when the sample is the whole file; otherwise reads drop it as they reach it.
  const reachedEnd = input.complete && records.length <= SAMPLE_ROWS && !cut;
  const dropFooter = (rule: FooterRule) => {
    if (!reachedEnd) return { kept: rows, dropped: [] as FooterRow[] };
    const filter = new FooterFilter(rule, headers.length);
    const kept: TextRow[] = [];
    rows.forEach((r, i) => filter.push(r, belowAt[i], kept));
    filter.drain(kept, Infinity); // the sample's rows are in memory already: its released rows at once
    return { kept, dropped: filter.end().rows };
  };
  const totals = (numeric: number[]): FooterRule => ({ kind: "totals", numeric, maxHeld: MAX_HELD_TOTALS });
  const numericOf = (columns: Column[]) => columns.flatMap((c, i) => (isNumericType(c.type) ? [i] : []));
  let rule: FooterRule = sidecar?.footerRows !== undefined ? { kind: "count", rows: sidecar.footerRows } : totals(headers.map((_, i) => i));
  let { kept, dropped } = dropFooter(rule);
  let columns = codesAndTypes(headers, keys, kept);
  if (rule.kind === "totals") {
    // Totals have numbers only in numeric columns: with the types known, look again (and type again if that changed what is data).
    rule = totals(numericOf(columns));
    const again = dropFooter(rule);
    if (again.kept.length !== kept.length) {
      ({ kept, dropped } = again);
      columns = codesAndTypes(headers, keys, kept);
      rule = totals(numericOf(columns));
    }
  }
  const layout: Layout = {
    headerRow: found.index + 1,
    skippedRows: found.skipped,
    footer: rule,
    footerRows: dropped,
    declared: found.declared || sidecar?.footerRows !== undefined,
  };
  return finish(columns, keys, header, layout);
}

function sidecarPlace(entry: TableEntry): string {
  return entry.source.kind === "r2" ? `in "${sidecarKey(entry.source.key)}"` : `of URL table "${entry.code}"`;
}

/** The sidecar's `dateColumn` (header text, JSON key or code) as a column index; it must be a date or datetime. */
function sidecarDateColumn(columns: Column[], keys: string[], sidecar: Sidecar | undefined, entry: TableEntry): number | undefined {
  const wanted = sidecar?.dateColumn;
  if (wanted === undefined) return undefined;
  const i = keys.findIndex((k, j) => k === wanted || columns[j].name === wanted || columns[j].code === wanted.toUpperCase());
  if (i < 0)
    throw sidecarError(
      sidecarPlace(entry),
      `dateColumn: "${wanted}" is not a column of the file (its columns are: ${columns.map((c) => c.name).join(", ")})`,
    );
  if (!isDateType(columns[i])) {
    throw sidecarError(
      sidecarPlace(entry),
      `dateColumn: "${wanted}" is a ${columns[i].type} column, but it must be a date or datetime one (declare its type in columns if inference got it wrong)`,
    );
  }
  return i;
}

/** The columns whose type the sidecar declares (an upload does not re-infer them from the whole file). */
export function declaredTypeColumns(d: Pick<Description, "columns" | "keys">, sidecar: Sidecar | undefined): Set<number> {
  const out = new Set<number>();
  for (const [header, override] of Object.entries(sidecar?.columns ?? {})) {
    if (!override.type) continue;
    const i = d.keys.findIndex((k, j) => k === header || d.columns[j].name === header || d.columns[j].code === header.toUpperCase());
    if (i >= 0) out.add(i);
  }
  return out;
}

function applySidecarColumns(columns: Column[], keys: string[], sidecar: Sidecar | undefined, entry: TableEntry): void {
  const where = sidecarPlace(entry);
  for (const [header, override] of Object.entries(sidecar?.columns ?? {})) {
    const i = keys.findIndex((k, j) => k === header || columns[j].name === header || columns[j].code === header.toUpperCase());
    if (i < 0)
      throw sidecarError(
        where,
        `columns: "${header}" is not a column of the file (its columns are: ${columns.map((c) => c.name).join(", ")})`,
      );
    if (override.code) columns[i].code = override.code;
    if (override.name) columns[i].name = override.name;
    if (override.type) {
      columns[i].type = override.type;
      columns[i].declared = true;
    }
  }
  const codes = new Set<string>();
  for (const c of columns) {
    if (codes.has(c.code)) throw sidecarError(where, `two columns have the code "${c.code}"`);
    codes.add(c.code);
  }
}

// ---- entry points ----------------------------------------------------------

export interface Described {
  description: Description;
  /** The whole file from its first byte (replayed prefix + rest). */
  bytes: Bytes;
  /** Random access to the same version, for this request only (pass it to tableRows; never keep it). */
  access?: FileAccess;
  /** What the reading's identity is made of, the description included (identity.ts); absent for a source without a version. */
  reading?: ReadingParts;
}

/** A stream with nothing in it (a description answered without reading the file). */
async function* nothing(): Bytes {}

// Which object versions have no manifest (a file put straight into R2), so that
// every read of such a file does not look again. Bounded, and forgotten after
// a while: a manifest is written right after its object, so a read in between
// must not hide it for long.
// A manifest written by this isolate (manifest.ts counts them) ends every such entry at once.
const NO_MANIFEST_MS = 60_000;
const noManifest = new Map<string, { at: number; writes: number }>();

/** The identity a description of this version with this sidecar is made under (identity.ts). */
function readingOf(entry: TableEntry, config: Config, version: string, loaded: LoadedSidecar): ReadingParts {
  return { source: sourceOf(entry), version, sidecar: loaded.version, config };
}

/**
 * The description an upload decided over the whole file, when its manifest
 * was decided under the live identity (this version, this sidecar); null otherwise.
 */
async function manifestDescription(
  env: Env,
  config: Config,
  entry: TableEntry,
  etag: string,
  loaded: LoadedSidecar,
  formats: FormatRegistry = FORMATS,
): Promise<Description | null> {
  if (entry.source.kind !== "r2") return null;
  const key = entry.source.key;
  const identity = readingIdentity(readingOf(entry, config, etag, loaded));
  const cacheKey = `manifest|${identity}`;
  const cached = cacheGet(cacheKey);
  if (cached) return cached;
  const missing = noManifest.get(cacheKey);
  if (missing !== undefined && missing.writes === manifestWrites() && Date.now() - missing.at < NO_MANIFEST_MS) return null;
  const none = () => {
    noManifest.set(cacheKey, { at: Date.now(), writes: manifestWrites() });
    if (noManifest.size > CACHE_MAX) noManifest.delete(noManifest.keys().next().value!);
    return null;
  };
  const manifest = await readManifest(env.DATA, key, etag);
  if (!manifest || readingIdentity({ source: sourceOf(entry), version: manifest.etag, sidecar: manifest.sidecar, config }) !== identity)
    return none();
  let description: Description;
  try {
    description = await fromManifest(entry, manifest, loaded.sidecar, formats, env.DATA);
  } catch {
    // A format that cannot take its decisions back (or a manifest it does not understand): described from the file.
    return none();
  }
  cacheSet(cacheKey, description);
  return description;
}

/** A Description again from a manifest: its plain fields, and a reader made by the format with the stored decisions. */
export async function fromManifest(
  entry: TableEntry,
  manifest: Manifest,
  sidecar: Sidecar | undefined,
  formats: FormatRegistry,
  bucket?: R2Bucket,
): Promise<Description> {
  const { format, name } = formatFor(entry, sidecar, formats);
  const src = entry.source;
  const access = bucket && src.kind === "r2" && !src.gzip ? rangeAccess(bucket, src.key, manifest.etag) : {};
  const reader = await format.detect(
    { sample: new Uint8Array(0), complete: false, ...access },
    { name, sidecar, decided: manifest.reader },
  );
  // The sidecar (whose version the manifest was kept for) says which types are declared: they read numbers as declared ones do.
  const plain = manifest.description;
  const typed = declaredTypeColumns(plain, sidecar);
  const columns = plain.columns.map((c, i) => (typed.has(i) && !c.declared ? { ...c, declared: true } : c));
  return { ...plain, columns, reader };
}

/**
 * Opens the table and describes it from the same read. With `prefixOnly`, the
 * source is asked for at most SAMPLE_BYTES (an R2 range read). An R2 file
 * uploaded through the Worker is described by its manifest (no inference; a
 * description-only request then reads nothing of the file).
 */
export async function describeTable(
  env: Env,
  config: Config,
  entry: TableEntry,
  options: { prefixOnly?: boolean; signal?: AbortSignal } = {},
): Promise<Described> {
  const loaded = await loadSidecar(env, entry);
  const reading = (version: string, description: Description): ReadingParts => ({
    ...readingOf(entry, config, version, loaded),
    description,
  });
  if (options.prefixOnly && entry.source.kind === "r2") {
    const head = await env.DATA.head(entry.source.key);
    const known = head ? await manifestDescription(env, config, entry, head.etag, loaded) : null;
    if (known) return { description: known, bytes: nothing(), reading: reading(head!.etag, known) };
    // An R2 etag names one content, so a description cached for it needs no read (a URL's ETag may be
    // kept while the columns move: those are checked below). Every compiled answer asks this first.
    const cached = head ? cacheGet(readingIdentity(readingOf(entry, config, head.etag, loaded))) : undefined;
    if (cached) return { description: cached, bytes: nothing(), reading: reading(head!.etag, cached) };
  }
  const open: OpenOptions = {
    ...(options.prefixOnly ? { prefixBytes: SAMPLE_BYTES } : {}),
    signal: options.signal,
    sampleBytes: SAMPLE_BYTES,
  };
  const opened = await openTable(env, config, entry, open);
  const version = opened.version;
  const withReading = (d: Described): Described => (version === null ? d : { ...d, reading: reading(version, d.description) });
  if (!options.prefixOnly && version !== null) {
    let known: Description | null;
    try {
      known = await manifestDescription(env, config, entry, version, loaded);
    } catch (err) {
      await opened.bytes.return(undefined);
      throw err;
    }
    if (known) return withReading({ description: known, bytes: opened.bytes });
  }
  const cacheKey = version === null ? null : readingIdentity(readingOf(entry, config, version, loaded));
  const cached = cacheGet(cacheKey);
  let bytes = opened.bytes;
  const access = fileAccess(opened);
  if (cached && !options.prefixOnly) return withReading({ description: cached, bytes, access }); // tableRows checks the header
  if (cached) {
    // A description-only read checks the header here: the ETag may have stayed while the columns moved.
    const prefix = await peek(bytes, HEADER_PEEK_BYTES);
    if (await headerMatches(once(prefix.bytes), cached, access)) return withReading({ description: cached, bytes: prefix.all, access });
    forgetDescription(cached);
    bytes = prefix.all; // described again from the same read
  }
  const described = await describeStream(entry, bytes, loaded.sidecar, {
    // A range read ends where the range does: complete only if that is the file's end.
    endIsFileEnd: (read) => !opened.rangeLimited || (opened.size !== undefined ? read >= opened.size : read < SAMPLE_BYTES),
    size: opened.size,
    read: opened.read,
    stream: opened.stream,
  });
  cacheSet(cacheKey, described.description);
  return withReading(described);
}

export interface DescribeOptions {
  /** Whether a stream that ended within the sample is the whole file (false for a range read that was cut). */
  endIsFileEnd?: (read: number) => boolean;
  /** The file's size and random access to it, for formats that read elsewhere than the start. */
  size?: number;
  read?: FormatInput["read"];
  stream?: FormatInput["stream"];
  /** The formats to read with (a test adds its own). */
  formats?: FormatRegistry;
}

/**
 * Describes a table from a stream of its bytes (from the first byte): infers
 * from the first SAMPLE_BYTES and hands back the whole stream for reading on.
 */
export async function describeStream(
  entry: TableEntry,
  bytes: Bytes,
  sidecar: Sidecar | undefined,
  options: DescribeOptions = {},
): Promise<Described> {
  const prefix = await peek(bytes, SAMPLE_BYTES);
  const complete = prefix.complete && (options.endIsFileEnd ?? (() => true))(prefix.bytes.byteLength);
  try {
    const input: FormatInput = { sample: prefix.bytes, complete, size: options.size, read: options.read, stream: options.stream };
    const description = await infer(entry, input, sidecar, options.formats ?? FORMATS);
    return { description, bytes: prefix.all, access: fileAccess(input) };
  } catch (err) {
    await prefix.all.return(undefined);
    throw err;
  }
}
