/**
 * The compiled form of a table, layout 2 (docs/design/compiled-tables.md).
 * R2 objects per compiled version of a source object, in a dot-folder (never
 * listed as tables, see rules/naming.ts):
 *
 *   .compiled/<encodeURIComponent(key)>/<etag>.meta.json  where everything is, and the stats
 *   .compiled/<encodeURIComponent(key)>/<etag>.g<n>       row group n, one object each
 *
 * The meta object is written last: a compiled form exists only once it is
 * complete. It names the identity of the reading it was compiled from
 * (catalog/identity.ts: the source's etag, its sidecar, the reader's
 * decisions, the description, this layout); it is served only while that is
 * the live table's. Its custom metadata carries the digest of what the
 * reading was decided from (compile.ts, readingInputs), which the cron
 * compares without reading the file. It also names each group object's
 * etag, and every read is pinned to it.
 *
 * A group object of up to GROUP_ROWS rows holds, in this order, one section
 * per column and then the rows:
 *   column section: u32 LE end offset of each cell's JSON (relative to the
 *                   section's bytes), then the cells' JSON bytes, concatenated;
 *   rows section:   the same for whole rows, each row `,[cell,…]` with every
 *                   column in file order, so a whole-table answer is a copy;
 *   dictionaries:   for each column with few distinct cells in the group
 *                   (at most DICT_MAX, and at most half its rows), per row
 *                   the code of its cell (u8, or u16 LE above 256 values),
 *                   then the distinct cells as a section. A filter part on
 *                   such a column is evaluated once per distinct value, not
 *                   once per row, and its cells are written from the values.
 * Cells are stored as the streaming path answers them from their text. Every
 * section (and a dictionary's values) starts at a multiple of 4 bytes (zero
 * padding before it), so its u32 ends are read in place.
 *
 * Layout 1 was one data object for all groups, written as a multipart upload;
 * one object per group is written with one put each (a group is a few MB), and
 * reads of it never cross parts (Miniflare's local R2 reassembles multipart
 * objects in JavaScript on every ranged read: 2-4x the CPU of a compiled answer).
 */
import * as z from "zod";
import { type ReadingParts, readingIdentity } from "../catalog/identity";

/** 3: the meta names the reading's identity (catalog/identity.ts), not only the columns. */
export const LAYOUT_VERSION = 3;
export const COMPILED_PREFIX = ".compiled/";

/** Rows per group: small enough that a month of a date-sorted year is a few groups, large enough for few reads. */
export const GROUP_ROWS = 16_384;
/** A group also ends once its rows hold this many bytes (long cells): memory stays bounded. */
export const GROUP_BYTES = 4 * 1024 * 1024;
/** Distinct values kept per column and group (for filters to skip groups); more are not kept. */
export const MAX_DISTINCT = 32;
/** Distinct cells a column's dictionary holds at most per group (u16 codes; more would not pay). */
export const DICT_MAX = 4096;
/** Longer text values are never kept as stats. */
export const MAX_STAT_CHARS = 100;

// R2 keys are at most 1,024 bytes: a longer encoded key is not compiled (it is still served, streaming).
const MAX_ENCODED_KEY = 900;

/** The folder of one source key's compiled forms, or null when the key is too long to have one. */
export function compiledFolder(key: string): string | null {
  const encoded = encodeURIComponent(key);
  return encoded.length > MAX_ENCODED_KEY ? null : `${COMPILED_PREFIX}${encoded}/`;
}

/** Every object of one compiled version starts with this (the meta and the groups). */
export const versionPrefix = (folder: string, etag: string) => `${folder}${etag}.`;
export const groupKey = (folder: string, etag: string, group: number) => `${folder}${etag}.g${group}`;
export const metaKey = (folder: string, etag: string) => `${folder}${etag}.meta.json`;
/**
 * Written by the cron before it compiles a version, removed once the version is compiled (or may be
 * retried): present, it says an attempt failed, did not fit the run, or died with its invocation
 * (a file too large for the CPU limit), and the cron does not try that version again.
 */
export const attemptKey = (folder: string, etag: string) => `${folder}${etag}.attempt.json`;

const Stat = z.union([z.number(), z.string()]);
const Range = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]);

const ColumnStats = z.object({
  nulls: z.number().int().nonnegative(),
  /** Smallest and largest typed value (numbers, canonical dates); absent for text or an all-empty column. */
  min: Stat.optional(),
  max: Stat.optional(),
  /** Every distinct typed value (nulls aside), when there are at most MAX_DISTINCT short ones. */
  distinct: z.array(Stat).optional(),
  /** Every stored cell is exactly cellToJson(typed cell) (no `1.50`, `-0` kept as written). */
  canonical: z.boolean(),
});

const Group = z.object({
  rows: z.number().int().positive(),
  /** The group object's etag: reads are pinned to it. */
  etag: z.string(),
  /** [offset, length] in the group object of each column's section, in column order. */
  columns: z.array(Range),
  /** [offset, length] of the rows section. */
  rowSection: Range,
  /** Per column its dictionary in this group, or null: where its codes and its values section are. */
  dicts: z.array(z.object({ entries: z.number().int().positive(), codes: Range, values: Range }).nullable()),
  stats: z.array(ColumnStats),
});

export const Meta = z.object({
  layout: z.literal(LAYOUT_VERSION),
  source: z.object({ key: z.string(), etag: z.string(), size: z.number() }),
  /** The reading's identity (compiledIdentity): served only while the live one is equal. */
  identity: z.string(),
  /** The digest of what the reading was decided from (compile.ts, readingInputs); also in the meta's custom metadata. */
  inputs: z.string(),
  rows: z.number().int().nonnegative(),
  /** Bytes of all group objects. */
  dataSize: z.number().int().nonnegative(),
  groups: z.array(Group),
});

export type Meta = z.infer<typeof Meta>;
export type GroupMeta = z.infer<typeof Group>;
export type ColumnStats = z.infer<typeof ColumnStats>;

/** The identity of a reading in this layout: a compiled form is served only while the live reading's is equal. */
export function compiledIdentity(reading: ReadingParts): string {
  return readingIdentity({ ...reading, layout: LAYOUT_VERSION });
}

/** A section's parts: `ends[i]` is where cell i's JSON ends within `bytes`. */
export interface Section {
  ends: Uint32Array;
  bytes: Uint8Array;
}

/** Typed arrays are read in place only on little-endian machines (the layout is little-endian). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function readSection(raw: Uint8Array, rows: number): Section {
  const endsBytes = 4 * rows;
  // Sections start at multiples of 4 and reads start at a section: the ends are used in place.
  if (LITTLE_ENDIAN && raw.byteOffset % 4 === 0)
    return { ends: new Uint32Array(raw.buffer, raw.byteOffset, rows), bytes: raw.subarray(endsBytes) };
  const ends = new Uint32Array(rows);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < rows; i++) ends[i] = view.getUint32(4 * i, true);
  return { ends, bytes: raw.subarray(endsBytes) };
}
