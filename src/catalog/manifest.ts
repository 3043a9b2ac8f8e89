/**
 * A file's manifest: what an upload learned reading the WHOLE file (encoding,
 * dialect, columns with types decided from every value, row count, misfits),
 * kept next to it at `.manifest/<percent-encoded key>/<etag>` (a dot-folder:
 * never a table, hidden from listings). /table_description and /data use it
 * when it belongs to the live object — its etag is in its key, and the
 * sidecar version it was decided with must be the current one — and fall
 * back to bounded-prefix inference otherwise (a file put straight into R2).
 *
 * The Description is stored generically: every field but the reader, so
 * fields added to Description flow through; the reader is made again by the
 * format's detect with the reader's own decisions as hints. The layout is
 * versioned (`v`); a manifest of another version, or one that does not
 * parse, is ignored (never an error: the file is simply described again).
 *
 * Keyed by etag, a manifest never mixes versions: one written late for an
 * object that was replaced meanwhile names an etag that is not live, and is
 * ignored. R2 etags are content digests, so a restored version finds the
 * manifest it had when it was live.
 */
import * as z from "zod";
import { COLUMN_TYPES, type Description, type ReaderDecisions } from "../model";
import { listObjects } from "../streams/r2-list";
import { parseJson } from "../values/json";

export const MANIFEST_PREFIX = ".manifest/";
export const MANIFEST_VERSION = 1;

export const manifestFolder = (key: string) => `${MANIFEST_PREFIX}${encodeURIComponent(key)}/`;
export const manifestKey = (key: string, etag: string) => `${manifestFolder(key)}${etag}`;

/** A Description without its reader: plain JSON. */
export type PlainDescription = Omit<Description, "reader">;

export interface ColumnFacts {
  code: string;
  type: string;
  /** The first non-empty value, null when the column has none. */
  example: string | null;
  /** Values that do not fit the (declared) type: served as null. */
  misfits: number;
}

export interface Manifest {
  v: typeof MANIFEST_VERSION;
  key: string;
  etag: string;
  /** The version of the sidecar it was decided with (its etag, "-" for none). */
  sidecar: string;
  /** The format's name as the key or sidecar gave it (`csv`, `json`, …). */
  format: string;
  /** The reader's decisions (CSV: encoding and dialect). */
  reader: ReaderDecisions;
  description: PlainDescription;
  rows: number;
  columns: ColumnFacts[];
}

const ColumnSchema = z.looseObject({ code: z.string(), name: z.string(), type: z.enum(COLUMN_TYPES), slashOrder: z.enum(["dmy", "mdy"]) });

const ManifestSchema = z.looseObject({
  v: z.literal(MANIFEST_VERSION),
  key: z.string(),
  etag: z.string(),
  sidecar: z.string(),
  format: z.string(),
  reader: z.record(z.string(), z.unknown()),
  description: z.looseObject({
    keys: z.array(z.string()),
    header: z.array(z.string().nullable()).nullable(),
    columns: z.array(ColumnSchema),
    decimalComma: z.boolean(),
  }),
  rows: z.number(),
  columns: z.array(z.looseObject({ code: z.string(), type: z.string(), example: z.string().nullable(), misfits: z.number() })),
});

// Manifests this isolate wrote: a read that found none before may find one now.
let writes = 0;
export const manifestWrites = () => writes;

/**
 * The manifest of this version of `key`; null when there is none or it is
 * of another layout version or unreadable. Whether it applies (the sidecar
 * it was decided with) is the reader's to check, by the reading's identity
 * (catalog/identity.ts).
 */
export async function readManifest(bucket: R2Bucket, key: string, etag: string): Promise<Manifest | null> {
  const obj = await bucket.get(manifestKey(key, etag));
  if (!obj) return null;
  const parsed = parseJson(await obj.text());
  if (!parsed.ok) return null;
  const result = ManifestSchema.safeParse(parsed.value);
  if (!result.success) return null;
  const m = result.data as unknown as Manifest;
  return m.key === key && m.etag === etag ? m : null;
}

/** The row count an upload found in this version of `key` (whatever sidecar it was read with), null when none was kept. */
export async function manifestRows(bucket: R2Bucket, key: string, etag: string): Promise<number | null> {
  const obj = await bucket.get(manifestKey(key, etag));
  if (!obj) return null;
  const parsed = parseJson(await obj.text());
  const rows =
    parsed.ok && parsed.value !== null && typeof parsed.value === "object" ? (parsed.value as { rows?: unknown }).rows : undefined;
  return typeof rows === "number" ? rows : null;
}

/** Writes a manifest (after the object it describes was made live: keyed by its etag). */
export async function writeManifest(bucket: R2Bucket, manifest: Manifest): Promise<void> {
  writes++;
  await bucket.put(manifestKey(manifest.key, manifest.etag), JSON.stringify(manifest), {
    httpMetadata: { contentType: "application/json" },
  });
}

/** Keeps a restored object's manifest: the one its content had under `from` now also applies under `to`. */
export async function carryManifest(bucket: R2Bucket, key: string, from: string, to: string): Promise<void> {
  if (from === to) return;
  const old = await bucket.get(manifestKey(key, from));
  if (!old) return;
  const parsed = parseJson(await old.text());
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) return;
  writes++;
  await bucket.put(manifestKey(key, to), JSON.stringify({ ...parsed.value, etag: to }), {
    httpMetadata: { contentType: "application/json" },
  });
}

/** Deletes the manifests of `key` whose etag is in none of `alive` (the live object, the kept versions). */
export async function pruneManifests(bucket: R2Bucket, key: string, alive: ReadonlySet<string>): Promise<void> {
  const folder = manifestFolder(key);
  const old: string[] = [];
  for await (const o of listObjects(bucket, { prefix: folder })) {
    const etag = o.key.slice(folder.length);
    if (!etag.includes("/") && !alive.has(etag)) old.push(o.key);
  }
  if (old.length) await bucket.delete(old);
}

/** A description's plain fields (everything but its reader), for a manifest. */
export function plainDescription(d: Description): PlainDescription {
  const { reader: _, ...plain } = d;
  return plain;
}
