/**
 * Compiles one R2 table into its compiled form (storage.ts): one read of the
 * exact version whose etag the result is keyed to, rows cut into groups,
 * every cell written once as the JSON the streaming path answers for it, and
 * per column and group the stats filters use to skip groups. Each group is
 * put as its own object once it is complete, so memory holds one group; the
 * meta object is written last, and only if the source still has the etag that
 * was read. Older compiled versions of the key are deleted; so are this
 * version's groups when it cannot be completed.
 */
import { describeTable } from "../catalog/describe";
import { identityDigest, readingIdentity, sourceOf } from "../catalog/identity";
import { manifestKey } from "../catalog/manifest";
import type { Config, Env } from "../config/config";
import { tableRows } from "../formats/rows";
import type { Cell, Description, TableEntry } from "../model";
import { cellWritersFor } from "../query/cells";
import { convertersFor } from "../query/pipeline";
import { sidecarKey } from "../rules/naming";
import { ByteBuilder } from "../streams/byte-builder";
import { concat } from "../streams/bytes";
import { jsonNumberAsIs } from "../values/numbers";
import {
  type ColumnStats,
  compiledFolder,
  compiledIdentity,
  DICT_MAX,
  GROUP_BYTES,
  GROUP_ROWS,
  type GroupMeta,
  groupKey,
  LAYOUT_VERSION,
  MAX_DISTINCT,
  MAX_STAT_CHARS,
  type Meta,
  metaKey,
  versionPrefix,
} from "./storage";

export type CompileResult =
  | { status: "compiled"; etag: string; rows: number; groups: number; dataSize: number }
  | { status: "skipped"; reason: string };

class StatsBuilder {
  nulls = 0;
  min: number | string | undefined;
  max: number | string | undefined;
  distinct: Set<number | string> | null = new Set();
  canonical = true;

  constructor(private readonly ordered: boolean) {}

  add(v: Cell): void {
    if (v === null) {
      this.nulls++;
      return;
    }
    if (this.ordered) {
      if (this.min === undefined || v < this.min) this.min = v;
      if (this.max === undefined || v > this.max) this.max = v;
    }
    const d = this.distinct;
    if (d !== null && !d.has(v)) {
      if (d.size >= MAX_DISTINCT || (typeof v === "string" && v.length > MAX_STAT_CHARS)) this.distinct = null;
      else d.add(v);
    }
  }

  done(): ColumnStats {
    return {
      nulls: this.nulls,
      ...(this.min !== undefined ? { min: this.min, max: this.max } : {}),
      ...(this.distinct !== null ? { distinct: [...this.distinct] } : {}),
      canonical: this.canonical,
    };
  }
}

/**
 * One column's dictionary within a group: each distinct cell once, and per
 * row its code. Abandoned (null) once it would not pay (see DICT_MAX).
 */
class DictBuilder {
  private index: Map<string, number> | null = new Map();
  private nullCode = -1;
  readonly values = new ByteBuilder(16 * 1024);
  readonly ends: number[] = [];
  codes: Uint16Array;

  constructor(rows: number) {
    this.codes = new Uint16Array(rows);
  }

  get live(): boolean {
    return this.index !== null;
  }

  /** Row `r`'s cell: its text (the key: the same text is always the same JSON) and its JSON, `cells`' bytes since `start`. */
  add(r: number, text: string | null, cells: ByteBuilder, start: number): void {
    const index = this.index;
    if (index === null) return;
    let code = text === null ? this.nullCode : index.get(text);
    if (code === undefined || code < 0) {
      code = this.ends.length;
      // Past 1,024 values, a column still adding one for every other row will not end at half its rows
      // or fewer: given up early (a unique column costs 1,025 inserts a group, not DICT_MAX).
      if (code >= DICT_MAX || (code >= 1024 && code > r / 2)) return void (this.index = null);
      if (text === null) this.nullCode = code;
      else index.set(text, code);
      this.values.copyFrom(cells, start);
      this.ends.push(this.values.length);
    }
    if (r >= this.codes.length) {
      const grown = new Uint16Array(2 * this.codes.length);
      grown.set(this.codes);
      this.codes = grown;
    }
    this.codes[r] = code;
  }

  /** The codes and the values section, or null when no dictionary is kept for this group; then a fresh one. */
  take(rows: number): [Uint8Array, Uint8Array, Uint8Array] | null {
    const n = this.ends.length;
    const kept = this.index !== null && n <= Math.max(1, rows / 2);
    const out: [Uint8Array, Uint8Array, Uint8Array] | null = kept
      ? [codeBytes(this.codes, rows, n), endsBytes(this.ends), this.values.take()]
      : null;
    this.index = new Map();
    this.nullCode = -1;
    this.ends.length = 0;
    this.values.take();
    return out;
  }
}

/** Codes as bytes: one byte each for up to 256 values, else two (u16 LE). */
function codeBytes(codes: Uint16Array, rows: number, n: number): Uint8Array {
  if (n <= 256) return Uint8Array.from(codes.subarray(0, rows));
  const out = new Uint8Array(2 * rows);
  const view = new DataView(out.buffer);
  for (let r = 0; r < rows; r++) view.setUint16(2 * r, codes[r], true);
  return out;
}

function endsBytes(ends: number[]): Uint8Array {
  const head = new Uint8Array(4 * ends.length);
  const view = new DataView(head.buffer);
  ends.forEach((e, i) => view.setUint32(4 * i, e, true));
  return head;
}

/** One group being built: per column the cells' JSON and where each ends, the dictionaries, and the stats. */
class GroupBuilder {
  readonly cells: ByteBuilder[];
  readonly ends: number[][];
  readonly dicts: DictBuilder[];
  readonly rowBytes = new ByteBuilder(256 * 1024);
  readonly rowEnds: number[] = [];
  stats: StatsBuilder[];

  constructor(
    private readonly d: Description,
    groupRows: number,
  ) {
    this.cells = d.columns.map(() => new ByteBuilder(64 * 1024));
    this.ends = d.columns.map(() => []);
    // Codes start small and grow (add): a wide table's dictionaries must not cost 32 KB a column up front.
    this.dicts = d.columns.map(() => new DictBuilder(Math.min(groupRows, 1024)));
    this.stats = this.freshStats();
  }

  private freshStats(): StatsBuilder[] {
    return this.d.columns.map((c) => new StatsBuilder(c.type !== "string"));
  }

  get rows(): number {
    return this.rowEnds.length;
  }

  /**
   * The group's sections (each a list of byte parts: columns, then rows),
   * the dictionaries (codes, then values) of the columns that keep one, and
   * a fresh group.
   */
  take(): { sections: Uint8Array[][]; dicts: (Uint8Array[] | null)[]; rows: number; stats: ColumnStats[] } {
    const rows = this.rows;
    const sections = this.cells.map((b, i) => [endsBytes(this.ends[i]), b.take()]);
    sections.push([endsBytes(this.rowEnds), this.rowBytes.take()]);
    const dicts = this.dicts.map((d) => d.take(rows));
    const stats = this.stats.map((s) => s.done());
    for (const e of this.ends) e.length = 0;
    this.rowEnds.length = 0;
    this.stats = this.freshStats();
    return { sections, dicts, rows, stats };
  }
}

export interface CompileOptions {
  /** Stop (and write nothing) once Date.now() passes this. */
  deadline?: number;
  /** Rows per group (tests use tiny groups); GROUP_ROWS by default. */
  groupRows?: number;
}

/**
 * The digest of what the reading of this version of an R2 table is decided
 * from, read without reading the file: its etag, its sidecar's version, the
 * manifest an upload left for it (catalog/identity.ts), in this layout. The
 * same inputs give the same description, so the cron compiles a table again
 * exactly when they changed (the serving path compares the whole reading).
 */
export async function readingInputs(env: Env, config: Config, entry: TableEntry, etag: string): Promise<string> {
  const key = (entry.source as { key: string }).key;
  const [sidecar, manifest] = await Promise.all([env.DATA.head(sidecarKey(key)), env.DATA.head(manifestKey(key, etag))]);
  return identityDigest(
    readingIdentity({
      source: sourceOf(entry),
      version: etag,
      sidecar: sidecar?.etag ?? "-",
      manifest: manifest?.etag ?? "-",
      config,
      layout: LAYOUT_VERSION,
    }),
  );
}

/** Compiles the R2 table `entry` (never a URL table), from the description the Worker serves it with. */
export async function compileTable(env: Env, config: Config, entry: TableEntry, options: CompileOptions = {}): Promise<CompileResult> {
  const src = entry.source;
  if (src.kind !== "r2") return { status: "skipped", reason: "not an R2 table" };
  const folder = compiledFolder(src.key);
  if (folder === null) return { status: "skipped", reason: "key too long" };
  const head = await env.DATA.head(src.key);
  if (!head) return { status: "skipped", reason: "the source is gone" };
  // Taken before the description: if they change meanwhile, the next cron run sees inputs newer than these.
  const inputs = await readingInputs(env, config, entry, head.etag);
  // Described as /data describes it (the manifest when it applies), from the same whole read.
  const { description, bytes, access, reading } = await describeTable(env, config, entry);
  const etag = reading?.version ?? null;
  if (reading === undefined || etag !== head.etag) {
    await bytes.return(undefined);
    return { status: "skipped", reason: "the source changed while it was compiled" };
  }
  const writers = cellWritersFor(description);
  const converters = convertersFor(description);
  const numeric = description.columns.map((c) => c.type === "int" || c.type === "double");
  const width = description.columns.length;
  const groups: GroupMeta[] = [];
  let dataSize = 0;
  let total = 0;
  const groupRows = options.groupRows ?? GROUP_ROWS;
  const group = new GroupBuilder(description, groupRows);

  const flush = async () => {
    if (group.rows === 0) return;
    const { sections, dicts, rows, stats } = group.take();
    const parts: Uint8Array[] = [];
    let offset = 0;
    // Every section starts at a multiple of 4, so its u32 ends are read in place (storage.ts, readSection).
    const place = (bytes: Uint8Array[]): [number, number] => {
      if (offset % 4 !== 0) {
        parts.push(new Uint8Array(4 - (offset % 4)));
        offset += 4 - (offset % 4);
      }
      const at = offset;
      for (const b of bytes) {
        parts.push(b);
        offset += b.byteLength;
      }
      return [at, offset - at];
    };
    const ranges = sections.map(place);
    const rowSection = ranges.pop()!;
    const dictMeta = dicts.map((d) =>
      d === null ? null : { codes: place([d[0]]), values: place([d[1], d[2]]), entries: d[1].byteLength / 4 },
    );
    const stored = await env.DATA.put(groupKey(folder, etag, groups.length), concat(parts, offset), {
      httpMetadata: { contentType: "application/octet-stream" },
    });
    groups.push({ rows, etag: stored.etag, columns: ranges, rowSection, dicts: dictMeta, stats });
    dataSize += offset;
  };

  try {
    // Random access too: a workbook's rows are read from its zip by range reads (formats/xlsx).
    const rows = tableRows(bytes, description, { access });
    for await (const batch of rows) {
      if (options.deadline !== undefined && Date.now() > options.deadline) {
        await rows.return(undefined);
        await deleteGroups(env.DATA, folder, etag, groups.length);
        return { status: "skipped", reason: "out of time" };
      }
      for (const row of batch) {
        const rb = group.rowBytes;
        rb.byte(44);
        rb.byte(91);
        for (let i = 0; i < width; i++) {
          const t = row[i];
          const cells = group.cells[i];
          const start = cells.length;
          writers[i](cells, t);
          group.ends[i].push(cells.length);
          group.dicts[i].add(group.rows, t, cells, start);
          const typed = converters[i](t);
          const stats = group.stats[i];
          stats.add(typed);
          // Numbers kept as written (`1.50`, `-0`) differ from the typed cell's JSON.
          if (numeric[i] && stats.canonical && t !== null && jsonNumberAsIs(t, true) && String(typed) !== t) stats.canonical = false;
          if (i > 0) rb.byte(44);
          rb.copyFrom(cells, start);
        }
        rb.byte(93);
        group.rowEnds.push(rb.length);
        total++;
        if (group.rows >= groupRows || rb.length >= GROUP_BYTES) await flush();
      }
    }
    await flush();
    // Written from one read of `etag`; the meta appears only if that is still the live version.
    const live = await env.DATA.head(src.key);
    if (live?.etag !== etag) {
      await deleteGroups(env.DATA, folder, etag, groups.length);
      return { status: "skipped", reason: "the source changed while it was compiled" };
    }
    const meta: Meta = {
      layout: LAYOUT_VERSION,
      source: { key: src.key, etag, size: live.size },
      identity: compiledIdentity(reading),
      inputs,
      rows: total,
      dataSize,
      groups,
    };
    // The layout and inputs ride in the meta's custom metadata, so the cron's head (isCompiled) tells a stale meta.
    await env.DATA.put(metaKey(folder, etag), JSON.stringify(meta), {
      httpMetadata: { contentType: "application/json" },
      customMetadata: compiledMetadata(inputs),
    });
    await deleteOthers(env.DATA, folder, etag, groups.length);
    return { status: "compiled", etag, rows: total, groups: groups.length, dataSize };
  } catch (err) {
    await deleteGroups(env.DATA, folder, etag, groups.length).catch(() => {});
    throw err;
  }
}

/** Removes the first `n` group objects of a version that will not get its meta. */
async function deleteGroups(bucket: R2Bucket, folder: string, etag: string, n: number): Promise<void> {
  // R2's delete takes at most 1,000 keys.
  for (let g = 0; g < n; g += 1000)
    await bucket.delete(Array.from({ length: Math.min(1000, n - g) }, (_, k) => groupKey(folder, etag, g + k)));
}

/**
 * Removes every object in the folder but this version's meta and its `groups` group objects: other
 * versions, layout 1's `.data` objects, and groups past the end left by an earlier compile of this etag.
 */
function deleteOthers(bucket: R2Bucket, folder: string, etag: string, groups: number): Promise<void> {
  const keep = new Set([metaKey(folder, etag), ...Array.from({ length: groups }, (_, g) => groupKey(folder, etag, g))]);
  return deleteListed(bucket, folder, (k) => !keep.has(k));
}

/** Removes every compiled form of a key (the file was deleted: a restore gets compiled again by the cron). */
export async function deleteCompiled(bucket: R2Bucket, key: string): Promise<void> {
  const folder = compiledFolder(key);
  if (folder !== null) await deleteListed(bucket, folder, () => true);
}

/** Removes one compiled version: its meta first (it stops being served), then its groups, as listed. */
export async function deleteVersion(bucket: R2Bucket, folder: string, etag: string): Promise<void> {
  await bucket.delete(metaKey(folder, etag));
  await deleteListed(bucket, versionPrefix(folder, etag), () => true);
}

async function deleteListed(bucket: R2Bucket, prefix: string, which: (key: string) => boolean): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor });
    const doomed = page.objects.map((o) => o.key).filter(which);
    if (doomed.length > 0) await bucket.delete(doomed);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}

/** The custom metadata of a meta or attempt marker made from these inputs in this layout. */
export const compiledMetadata = (inputs: string) => ({ layout: String(LAYOUT_VERSION), inputs });

/** Whether an object's custom metadata says it was made from these inputs in this layout. */
export const madeFrom = (obj: R2Object | null, inputs: string) =>
  obj?.customMetadata?.layout === String(LAYOUT_VERSION) && obj.customMetadata.inputs === inputs;

/** Whether the live version of an R2 table has a compiled form made from these inputs (readingInputs). */
export async function isCompiled(bucket: R2Bucket, key: string, etag: string, inputs: string): Promise<boolean> {
  const folder = compiledFolder(key);
  if (folder === null) return true;
  // Another layout's meta, or one made from other inputs (a sidecar changed, a manifest came), is compiled again.
  return madeFrom(await bucket.head(metaKey(folder, etag)), inputs);
}
