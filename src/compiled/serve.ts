/**
 * /data from a table's compiled form, when it has one for the live version:
 * the same plan, the same filter and the same bytes as the streaming path
 * (test/compiled/differential.test.ts), but the file is neither read whole
 * nor parsed. Groups the filter cannot match are skipped from their stats;
 * of the others only the sections the request needs are read (R2 range
 * reads, neighbours merged into one); rows are copied from the stored JSON.
 * A whole-table answer is the stored rows, byte for byte, piped from R2 to
 * the client without passing through JavaScript.
 */

import { describeTable } from "../catalog/describe";
import { AppError } from "../errors";
import type { Cell, ColumnType, Description } from "../model";
import type { Answer, AnswerOptions, OpenForm, TableForm, TableRef } from "../query/answer";
import { writeTyped } from "../query/cells";
import type { FilterPart } from "../query/filter";
import type { QueryPlan } from "../query/pipeline";
import { ByteBuilder } from "../streams/byte-builder";
import { PIECE_BYTES } from "../write/urldata";
import { deleteVersion } from "./compile";
import { groupsToRead } from "./skip";
import {
  compiledFolder,
  compiledIdentity,
  type GroupMeta,
  groupKey,
  LITTLE_ENDIAN,
  Meta,
  metaKey,
  readSection,
  type Section,
} from "./storage";

// Sections closer than this are read with one request (the gap is read and dropped).
const MERGE_GAP = 64 * 1024;
// Groups read ahead of the one being answered.
const READ_AHEAD = 2;

const metaCache = new Map<string, Meta>();
const META_CACHE_SIZE = 32;

/** Forgets the metas this isolate read, as a new isolate starts (tests comparing with a fresh Worker). */
export function forgetMetas(): void {
  metaCache.clear();
}

async function loadMeta(bucket: R2Bucket, key: string): Promise<Meta | null> {
  const hit = metaCache.get(key);
  if (hit) return hit;
  const obj = await bucket.get(key);
  if (!obj) return null;
  const parsed = Meta.safeParse(await obj.json().catch(() => null));
  if (!parsed.success) return null; // another layout, or damaged: the streaming path serves
  if (metaCache.size >= META_CACHE_SIZE) metaCache.delete(metaCache.keys().next().value!);
  metaCache.set(key, parsed.data);
  return parsed.data;
}

const decoder = new TextDecoder();

/** A stored cell's JSON → the typed cell the filter compares (what the converter made of its text). */
function decodeCell(bytes: Uint8Array, start: number, end: number): Cell {
  const first = bytes[start];
  if (first === 110) return null; // null
  if (first !== 34) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
    return Number(s);
  }
  // Short ASCII text without escapes (codes, dates, most names) is built directly: cheaper than a decoder call.
  if (end - start <= 40) {
    let s = "";
    for (let i = start + 1; i < end - 1; i++) {
      const b = bytes[i];
      if (b >= 0x80 || b === 92) return decodeText(bytes, start, end);
      s += String.fromCharCode(b);
    }
    return s;
  }
  return decodeText(bytes, start, end);
}

function decodeText(bytes: Uint8Array, start: number, end: number): string {
  for (let i = start + 1; i < end - 1; i++) if (bytes[i] === 92) return JSON.parse(decoder.decode(bytes.subarray(start, end))) as string;
  return decoder.decode(bytes.subarray(start + 1, end - 1));
}

/** A column's dictionary in one group: per row a code, the distinct cells' JSON, and their typed cells. */
interface Dict {
  codes: Uint8Array | Uint16Array;
  values: Section;
  typed: Cell[];
}

interface LoadedGroup {
  meta: GroupMeta;
  sections: Map<number, Section>; // by column; -1: the rows
  dicts: Map<number, Dict>; // by column: read instead of its section
}

/**
 * The rows of a group that every dictionary part lets by, in order (null: no
 * such part). Parts on the same column are ANDed into one mask first; the
 * mask passing the fewest distinct values scans the group, the others only
 * the rows left. One loop per code width, at module level, so each stays
 * monomorphic and optimised across requests.
 */
function passingRows(masks: ({ mask: Uint8Array; codes: Uint8Array | Uint16Array } | null)[], rows: number): Int32Array | null {
  const byColumn = new Map<Uint8Array | Uint16Array, Uint8Array>();
  for (const m of masks) {
    if (!m) continue;
    const had = byColumn.get(m.codes);
    if (!had) byColumn.set(m.codes, m.mask.slice());
    else for (let k = 0; k < had.length; k++) had[k] &= m.mask[k];
  }
  if (byColumn.size === 0) return null;
  const share = (mask: Uint8Array) => mask.reduce((n, b) => n + b, 0) / mask.length;
  const order = [...byColumn].sort((a, b) => share(a[1]) - share(b[1]));
  const list = new Int32Array(rows);
  const [codes, mask] = order[0];
  let n = codes instanceof Uint8Array ? scan8(list, mask, codes, rows) : scan16(list, mask, codes, rows);
  for (let i = 1; i < order.length && n > 0; i++) {
    const [c, m] = order[i];
    n = c instanceof Uint8Array ? keep8(list, n, m, c) : keep16(list, n, m, c);
  }
  return list.subarray(0, n);
}

function scan8(list: Int32Array, mask: Uint8Array, codes: Uint8Array, rows: number): number {
  let n = 0;
  for (let r = 0; r < rows; r++) if (mask[codes[r]] === 1) list[n++] = r;
  return n;
}

function scan16(list: Int32Array, mask: Uint8Array, codes: Uint16Array, rows: number): number {
  let n = 0;
  for (let r = 0; r < rows; r++) if (mask[codes[r]] === 1) list[n++] = r;
  return n;
}

function keep8(list: Int32Array, n: number, mask: Uint8Array, codes: Uint8Array): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (mask[codes[list[i]]] === 1) list[k++] = list[i];
  return k;
}

function keep16(list: Int32Array, n: number, mask: Uint8Array, codes: Uint16Array): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (mask[codes[list[i]]] === 1) list[k++] = list[i];
  return k;
}

/** `raw`: the dictionary's codes, then (at `valuesAt`, after padding) its values section. */
function readDict(raw: Uint8Array, rows: number, entries: number, valuesAt: number): Dict {
  const width = entries <= 256 ? 1 : 2;
  let codes: Uint8Array | Uint16Array;
  if (width === 1) codes = raw.subarray(0, rows);
  else if (LITTLE_ENDIAN && raw.byteOffset % 2 === 0)
    codes = new Uint16Array(raw.buffer, raw.byteOffset, rows); // in place
  else {
    const view = new DataView(raw.buffer, raw.byteOffset, 2 * rows);
    codes = new Uint16Array(rows);
    for (let r = 0; r < rows; r++) codes[r] = view.getUint16(2 * r, true);
  }
  const values = readSection(raw.subarray(valuesAt), entries);
  const typed: Cell[] = new Array(entries);
  for (let k = 0; k < entries; k++) typed[k] = decodeCell(values.bytes, k === 0 ? 0 : values.ends[k - 1], values.ends[k]);
  return { codes, values, typed };
}

export interface CompiledSource {
  meta: Meta;
  description: Description;
  /** Reads `length` bytes at `offset` of group `group`'s object. */
  read(group: number, offset: number, length: number): Promise<Uint8Array>;
}

/** Pulls the next piece of a compiled answer (null at the end); `cancel` stops it for good. */
export type CompiledPump = (() => Promise<Uint8Array | null>) & { cancel(): void };

/** The answer's pieces from a compiled table: the groups the filter cannot skip, read column by column (`read` marks the columns needed). */
export function compiledRows(
  src: CompiledSource,
  plan: QueryPlan,
  read: boolean[],
  onEnd?: (sent: number, bytesRead: number) => void,
): CompiledPump {
  const { meta, description } = src;
  const { selected, filter, limit } = plan;
  const parts: FilterPart[] | null = filter?.parts ?? null;
  const width = description.columns.length;
  const filterCols = filter?.columns ?? [];
  const identity = selected.length === width && selected.every((c, i) => c === i);
  const fromTyped = selected.map((i) => filterCols.includes(i));
  const numeric = description.columns.map((c: { type: ColumnType }) => c.type === "int" || c.type === "double");
  const typed: Cell[] = new Array(width).fill(null);
  // Which row each column's typed cell was decoded for (part-by-part evaluation).
  const decodedAt = new Float64Array(width).fill(-1);
  let decodedRow = 0;
  const order = meta.groups.map((_, g) => g).filter((g) => read[g]);
  const out = new ByteBuilder(PIECE_BYTES + 4096);
  let bytesRead = 0;
  let sent = 0;
  let next = 0; // index into order of the next group to start loading
  const loading: Promise<LoadedGroup>[] = [];

  /** Whether this group's rows can be copied whole (every column, in order, nothing to rewrite from a typed cell). */
  const rowsMode = (g: GroupMeta) => identity && filterCols.every((i) => !numeric[i] || g.stats[i].canonical);

  const load = async (n: number): Promise<LoadedGroup> => {
    const g = meta.groups[n];
    if (!filter && limit - sent < g.rows && rowsMode(g)) return loadPrefix(n, limit - sent);
    const want = new Set<number>(filterCols);
    if (rowsMode(g)) want.add(-1);
    else for (const i of selected) want.add(i);
    // A column with a dictionary in this group is read as its dictionary (codes and values: smaller, and adjacent).
    const ranges = [...want]
      .map((c) => {
        const d = c === -1 ? null : g.dicts[c];
        return { c, d, r: c === -1 ? g.rowSection : d ? ([d.codes[0], d.values[0] + d.values[1] - d.codes[0]] as const) : g.columns[c] };
      })
      .sort((a, b) => a.r[0] - b.r[0]);
    const sections = new Map<number, Section>();
    const dicts = new Map<number, Dict>();
    // Neighbouring sections become one read.
    let i = 0;
    while (i < ranges.length) {
      let j = i;
      while (j + 1 < ranges.length && ranges[j + 1].r[0] - (ranges[j].r[0] + ranges[j].r[1]) <= MERGE_GAP) j++;
      const from = ranges[i].r[0];
      const to = ranges[j].r[0] + ranges[j].r[1];
      const bytes = to > from ? await src.read(n, from, to - from) : new Uint8Array(0);
      bytesRead += to - from;
      for (let k = i; k <= j; k++) {
        const { c, d, r } = ranges[k];
        const raw = bytes.subarray(r[0] - from, r[0] - from + r[1]);
        if (d) dicts.set(c, readDict(raw, g.rows, d.entries, d.values[0] - d.codes[0]));
        else sections.set(c, readSection(raw, g.rows));
      }
      i = j + 1;
    }
    return { meta: g, sections, dicts };
  };
  /** Whole rows, only the first `n`: their ends, then just their bytes (a preview reads kilobytes). */
  const loadPrefix = async (group: number, n: number): Promise<LoadedGroup> => {
    const g = meta.groups[group];
    const [at] = g.rowSection;
    const endsRaw = await src.read(group, at, 4 * g.rows);
    const { ends } = readSection(endsRaw, g.rows);
    const length = n > 0 ? ends[n - 1] : 0;
    const bytes = length > 0 ? await src.read(group, at + 4 * g.rows, length) : new Uint8Array(0);
    bytesRead += endsRaw.byteLength + length;
    return { meta: g, sections: new Map([[-1, { ends, bytes }]]), dicts: new Map() };
  };
  // With a limit and no filter, the rows needed are known: nothing is read ahead past them.
  const ahead = !filter && limit !== Infinity ? 0 : READ_AHEAD;
  const fill = () => {
    while (loading.length <= ahead && next < order.length) {
      const p = load(order[next++]);
      p.catch(() => {}); // awaited in turn; a failure surfaces there
      loading.push(p);
    }
  };

  /** A group being answered: where its rows stand, so a piece can end anywhere, even inside a row. */
  interface Cursor {
    lg: LoadedGroup;
    rows: Section | undefined;
    list: Int32Array | null;
    visit: number;
    /** The next entry of `list` (or row) to look at. */
    v: number;
    masks: ({ mask: Uint8Array; codes: Uint8Array | Uint16Array } | null)[];
    cellOf: (Dict | Section | undefined)[];
    codesOf: (Uint8Array | Uint16Array | undefined)[];
  }
  let cur: Cursor | null = null;
  /** The row being written cell by cell, and the position in `selected` of its next cell (-1: none). */
  let rowAt = 0;
  let col = -1;

  const start = (lg: LoadedGroup): Cursor => {
    const g = lg.meta;
    const { sections, dicts } = lg;
    // A part on one column with a dictionary is evaluated once per distinct value: per row, a lookup.
    const masks = (parts ?? []).map((p) => {
      const d = p.columns.length === 1 ? dicts.get(p.columns[0]) : undefined;
      if (!d) return null;
      const c = p.columns[0];
      const mask = new Uint8Array(d.typed.length);
      for (let k = 0; k < mask.length; k++) {
        typed[c] = d.typed[k];
        mask[k] = p.test(typed) ? 1 : 0;
      }
      return { mask, codes: d.codes };
    });
    // The dictionary parts first, for the whole group in one pass each (the parts are ANDed, so their
    // order does not change which rows pass): the row loop then visits only the rows they let by.
    const list = passingRows(masks, g.rows);
    return {
      lg,
      rows: sections.get(-1),
      list,
      visit: list === null ? g.rows : list.length,
      v: 0,
      masks,
      cellOf: selected.map((i) => dicts.get(i) ?? sections.get(i)),
      codesOf: selected.map((i) => dicts.get(i)?.codes),
    };
  };

  /** Whether row `r` of the group passes the filter (its filter columns decoded into `typed`). */
  const passes = (c: Cursor, r: number): boolean => {
    const { sections, dicts } = c.lg;
    // Row r's typed cell of column k, into `typed` (a dictionary's is looked up, a section's decoded).
    const decode = (k: number) => {
      const d = dicts.get(k);
      if (d) typed[k] = d.typed[d.codes[r]];
      else {
        const s = sections.get(k)!;
        typed[k] = decodeCell(s.bytes, r === 0 ? 0 : s.ends[r - 1], s.ends[r]);
      }
    };
    if (parts) {
      // Part by part: a row fails at its first failing part, before the other columns are decoded.
      decodedRow++;
      for (let k = 0; k < parts.length; k++) {
        if (c.masks[k]) continue; // already applied
        const p = parts[k];
        for (const i of p.columns) {
          if (decodedAt[i] === decodedRow) continue;
          decode(i);
          decodedAt[i] = decodedRow;
        }
        if (!p.test(typed)) return false;
      }
      // Selected columns written from their typed cell need it decoded even if no part read it… every filter column is some part's.
      for (const i of filterCols) {
        if (decodedAt[i] === decodedRow) continue;
        decode(i);
        decodedAt[i] = decodedRow;
      }
      return true;
    }
    for (let k = 0; k < filterCols.length; k++) decode(filterCols[k]);
    return !filter || filter.test(typed);
  };

  /**
   * Writes the group's passing rows into `out` until a piece is full, the
   * group ends or the limit is reached; a row wider than a piece (a select
   * that repeats a long column) is left part-written and resumed.
   */
  const advance = (c: Cursor): void => {
    const g = c.lg.meta;
    const rows = c.rows;
    if (col >= 0) {
      for (; col < selected.length; col++) {
        if (out.length >= PIECE_BYTES) return;
        if (col > 0) out.byte(44);
        const i = selected[col];
        if (fromTyped[col] && numeric[i] && !g.stats[i].canonical) writeTyped(out, typed[i]);
        else {
          const codes = c.codesOf[col];
          const cell = c.cellOf[col]!;
          const at = codes ? codes[rowAt] : rowAt;
          const s = codes ? (cell as Dict).values : (cell as Section);
          out.bytes(s.bytes.subarray(at === 0 ? 0 : s.ends[at - 1], s.ends[at]));
        }
      }
      out.byte(93);
      col = -1;
    }
    if (!filter && rows) {
      // Whole rows, no test: copied a piece at a time (cut at the limit).
      const n = Math.min(g.rows, limit - sent + c.v);
      if (c.v >= n) {
        c.v = c.visit;
        return;
      }
      const from = c.v === 0 ? 0 : rows.ends[c.v - 1];
      let to = c.v;
      while (to < n && rows.ends[to] - from < PIECE_BYTES) to++;
      if (to === c.v) to++; // one row longer than a piece
      out.bytes(rows.bytes.subarray(from, rows.ends[to - 1]));
      sent += to - c.v;
      c.v = to >= n ? c.visit : to;
      return;
    }
    while (c.v < c.visit && sent < limit && out.length < PIECE_BYTES) {
      const r = c.list === null ? c.v : c.list[c.v];
      c.v++;
      if (!passes(c, r)) continue;
      sent++;
      if (rows) {
        out.bytes(rows.bytes.subarray(r === 0 ? 0 : rows.ends[r - 1], rows.ends[r]));
        continue;
      }
      out.byte(44);
      out.byte(91);
      rowAt = r;
      col = 0;
      return advance(c);
    }
    if (sent >= limit) c.v = c.visit;
  };

  let ended = false;
  const pump = async (): Promise<Uint8Array | null> => {
    if (ended) return null;
    for (;;) {
      if (cur && (col >= 0 || cur.v < cur.visit)) {
        advance(cur);
        if (out.length >= PIECE_BYTES) return out.take();
        continue;
      }
      cur = null;
      if (sent >= limit || (loading.length === 0 && next >= order.length)) {
        if (out.length > 0) return out.take();
        ended = true;
        onEnd?.(sent, bytesRead);
        return null;
      }
      // One group per call at most: the writer gets control back between reads.
      if (out.length > 0) return out.take();
      fill();
      const lg = await loading.shift()!;
      if (ahead > 0) fill(); // the next reads overlap this group's answer
      if (ended) return null;
      cur = start(lg);
    }
  };
  return Object.assign(pump, {
    /** The client is gone: nothing more is read or written (reads in flight are dropped). */
    cancel: () => {
      ended = true;
      cur = null;
      next = order.length;
      loading.length = 0;
    },
  });
}

/**
 * The compiled form of a table's live version, when it has one made from
 * the reading the file's path would use (catalog/identity.ts); answers the
 * plans answerQuery (query/answer.ts) makes.
 */
export const compiledForm: TableForm = { open: openCompiled };

async function openCompiled({ env, config, entry }: TableRef): Promise<OpenForm | null> {
  const source = entry.source;
  if (source.kind !== "r2") return null;
  const folder = compiledFolder(source.key);
  if (folder === null) return null;
  const live = await env.DATA.head(source.key);
  if (!live) return null;
  const mkey = metaKey(folder, live.etag);
  let meta = await loadMeta(env.DATA, mkey);
  if (!meta || meta.source.etag !== live.etag) return null;
  // The reading the streaming path would use (its description cached per identity): the compiled one must be it.
  const { description, bytes, reading } = await describeTable(env, config, entry, { prefixOnly: true });
  await bytes.return(undefined);
  if (reading?.version !== live.etag) return null; // replaced meanwhile
  const id = compiledIdentity(reading);
  if (id !== meta.identity) {
    metaCache.delete(mkey); // this isolate's copy may predate a recompilation
    meta = await loadMeta(env.DATA, mkey);
    if (!meta) return null;
    if (id !== meta.identity) {
      // Compiled from another reading (a sidecar changed, a manifest came, or inference did in a new
      // release): removed, so the next cron run compiles the table again. Until then the streaming path serves.
      metaCache.delete(mkey);
      await deleteVersion(env.DATA, folder, live.etag);
      return null;
    }
  }
  const found = meta;
  return {
    description,
    answer: (plan, options) => answerCompiled(env.DATA, entry.code, folder, live.etag, mkey, found, description, plan, options),
  };
}

async function answerCompiled(
  bucket: R2Bucket,
  code: string,
  folder: string,
  etag: string,
  mkey: string,
  meta: Meta,
  description: Description,
  plan: QueryPlan,
  { onStats }: Pick<AnswerOptions, "onStats">,
): Promise<Answer | null> {
  const read = groupsToRead(meta.groups, plan.filter, description);
  // This isolate's cached meta may outlive its objects (a recompilation or a prune removed them): the
  // first group to be read must be there, as the meta says, before the answer starts. Every read is
  // pinned to its group's etag; a change after this is FILE_CHANGED, at the end of the answer.
  const first = read.indexOf(true);
  if (first >= 0 && (await bucket.head(groupKey(folder, etag, first)))?.etag !== meta.groups[first].etag) {
    metaCache.delete(mkey);
    // If the stored meta itself names the group that is not there (an aborted compile of the same etag
    // deleted it), the compiled form is broken: its meta goes too, so the cron compiles the version again
    // (it counts a version with a meta as compiled). A stale cached meta only falls back.
    const stored = await loadMeta(bucket, mkey);
    metaCache.delete(mkey);
    if (stored && stored.groups[first]?.etag === meta.groups[first].etag) await bucket.delete(mkey);
    return null;
  }
  const changed = () => {
    metaCache.delete(mkey);
    return new AppError(
      "FILE_CHANGED",
      `The compiled form of table "${code}" changed while it was read; retry: the next request reads the table again.`,
    );
  };
  const groups = meta.groups;
  const get = async (g: number, offset: number, length: number) => {
    const part = await bucket.get(groupKey(folder, etag, g), { range: { offset, length }, onlyIf: { etagMatches: groups[g].etag } });
    if (!part || !("body" in part)) throw changed();
    return part;
  };
  const started = Date.now();
  const stats = (sent: number, bytesRead: number) => onStats?.({ form: "compiled", bytesRead, rowsSent: sent, ms: Date.now() - started });
  if (
    !plan.filter &&
    plan.limit >= meta.rows &&
    plan.selected.length === description.columns.length &&
    plan.selected.every((c, i) => c === i)
  ) {
    // Every row, every column in file order: the stored rows sections, piped from R2 as they are.
    let g = 0;
    let bytesRead = 0;
    const streams = async () => {
      if (g >= groups.length) {
        stats(meta.rows, bytesRead);
        return null;
      }
      const [at, length] = groups[g].rowSection;
      const ends = 4 * groups[g].rows;
      bytesRead += length - ends;
      return (await get(g++, at + ends, length - ends)).body;
    };
    return { form: "compiled", header: plan.header, rows: { streams } };
  }
  const src: CompiledSource = {
    meta,
    description,
    read: async (g, offset, length) => new Uint8Array(await (await get(g, offset, length)).arrayBuffer()),
  };
  const pump = compiledRows(src, plan, read, stats);
  return { form: "compiled", header: plan.header, rows: { pump, cancel: async () => pump.cancel() } };
}
