/**
 * Previous versions of replaced or deleted objects, kept under
 * `.versions/<encodeURIComponent(key)>/<id>` (a dot-folder: never a table,
 * never an upload target). The encoded key has no `/`, so the folder of
 * `vc/a.csv` (`.versions/vc%2Fa.csv/`) can never hold a version of
 * `vc/a.csv/x.csv` (`.versions/vc%2Fa.csv%2Fx.csv/`). An id is a timestamp
 * plus a random suffix, so two writers never pick the same one.
 *
 * Versions under the earlier layout (`.versions/<key>/<timestamp>`) may still
 * be in a bucket: they are listed, restored and pruned too. Such an object
 * belongs to a key only when what follows the key's folder is one timestamp
 * (no `/`), the only name that layout wrote. They age out through pruning;
 * nothing is moved.
 *
 * Every replace goes through `replaceKeeping`: the live object is copied to a
 * version, then replaced with an R2 conditional write on the etag that was
 * copied. A writer that lost the race gets 409 and leaves nothing behind, so
 * every content that was live at some point ends up live or kept.
 * Copies stream R2 to R2 in constant memory.
 */
import { carryManifest, pruneManifests } from "../catalog/manifest";
import { AppError } from "../errors";
import { listObjects } from "../streams/r2-list";

export const VERSIONS_PREFIX = ".versions/";

const folderOf = (key: string) => `${VERSIONS_PREFIX}${encodeURIComponent(key)}/`;
const legacyFolderOf = (key: string) => `${VERSIONS_PREFIX}${key}/`;
const ID_RE = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f]{8}$/;
const LEGACY_ID_RE = /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z(?:_\d+)?$/;
/** Custom metadata on a version: the etag the live object had when it was copied. */
const COPIED_FROM = "version-of-etag";

export interface VersionInfo {
  version: string;
  size: number;
  uploaded: string;
}

interface StoredVersion extends VersionInfo {
  object: string;
  copiedFrom?: string;
}

function newVersionId(): string {
  const random = crypto.getRandomValues(new Uint8Array(4));
  return `${new Date().toISOString().replace(/[:.]/g, "-")}-${[...random].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

async function listFolder(bucket: R2Bucket, prefix: string, ids: RegExp[]): Promise<StoredVersion[]> {
  const out: StoredVersion[] = [];
  for await (const o of listObjects(bucket, { prefix, include: ["customMetadata"] } as R2ListOptions)) {
    const version = o.key.slice(prefix.length);
    if (!ids.some((re) => re.test(version))) continue;
    out.push({ version, size: o.size, uploaded: o.uploaded.toISOString(), object: o.key, copiedFrom: o.customMetadata?.[COPIED_FROM] });
  }
  return out;
}

/** This key's versions, oldest first, in both layouts. */
async function storedVersions(bucket: R2Bucket, key: string): Promise<StoredVersion[]> {
  const folder = folderOf(key);
  const legacy = legacyFolderOf(key);
  const all =
    folder === legacy
      ? await listFolder(bucket, folder, [ID_RE, LEGACY_ID_RE])
      : [...(await listFolder(bucket, folder, [ID_RE])), ...(await listFolder(bucket, legacy, [LEGACY_ID_RE]))];
  return all.sort((a, b) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

export async function listVersions(bucket: R2Bucket, key: string): Promise<VersionInfo[]> {
  return (await storedVersions(bucket, key)).map(({ version, size, uploaded }) => ({ version, size, uploaded }));
}

export function conflict(key: string): AppError {
  return new AppError(
    "UPLOAD_CONFLICT",
    `Another change to "${key}" finished first (an upload, restore or delete); nothing was changed by this request and nothing was lost. Check GET /files/${key}/versions, then retry.`,
  );
}

/** Copies an object (the body of a get) to a new version of `key`. */
async function keep(bucket: R2Bucket, key: string, live: R2ObjectBody): Promise<string> {
  const version = newVersionId();
  await bucket.put(folderOf(key) + version, live.body, {
    httpMetadata: live.httpMetadata,
    customMetadata: { ...live.customMetadata, [COPIED_FROM]: live.etag },
  });
  return version;
}

/**
 * Our copy of a live object that another writer replaced first is dropped
 * when that writer kept it too (a version copied from the same etag; R2 etags
 * are digests of the content); otherwise (the object was replaced outside the
 * Worker) it stays.
 */
async function dropDuplicate(bucket: R2Bucket, key: string, version: string, etag: string): Promise<void> {
  const others = (await storedVersions(bucket, key)).filter((v) => v.version !== version && v.copiedFrom === etag);
  if (others.length > 0) await bucket.delete(folderOf(key) + version);
}

export type Condition = R2Conditional;

/**
 * Keeps the live object of `key` as a version, then runs `write` with the R2
 * condition "the live object is still the one just kept" (or "there is still
 * none"). `expectedEtag` (the live etag when the request started; null = no
 * live object) makes a change in between a conflict too. `write` answers null
 * when the condition failed. Throws 409 UPLOAD_CONFLICT on a lost race.
 * Then only the newest `keep` versions are kept: keep → write → prune, the
 * one sequence every replace (upload, schema, restore) goes through.
 */
export async function replaceKeeping(
  bucket: R2Bucket,
  key: string,
  { expectedEtag, keep: keepCount }: { expectedEtag?: string | null; keep?: number },
  write: (onlyIf: Condition) => Promise<R2Object | null>,
): Promise<{ object: R2Object; previous: string | null }> {
  const live = await bucket.get(key);
  if (expectedEtag !== undefined && (live?.etag ?? null) !== expectedEtag) {
    await live?.body.cancel();
    throw conflict(key);
  }
  const previous = live ? await keep(bucket, key, live) : null;
  let object: R2Object | null = null;
  try {
    object = await write(live ? { etagMatches: live.etag } : { etagDoesNotMatch: "*" });
  } finally {
    if (!object && live && previous) {
      // Nothing replaced: our copy is only needed if the kept content is no longer live and not kept by the writer that won.
      if ((await bucket.head(key))?.etag === live.etag) await bucket.delete(folderOf(key) + previous);
      else await dropDuplicate(bucket, key, previous, live.etag);
    }
  }
  if (!object) throw conflict(key);
  if (keepCount !== undefined) await pruneVersions(bucket, key, keepCount);
  return { object, previous };
}

/**
 * Keeps the live object as a version and deletes it. R2 has no conditional
 * delete: the etag is checked again right before the delete, which narrows
 * (but cannot close) the window in which a concurrent upload could land.
 * At least one version is kept, so a deleted file can be restored.
 */
export async function deleteKeeping(
  bucket: R2Bucket,
  key: string,
  keepCount: number,
  confirm?: () => Promise<void>,
): Promise<string | null> {
  const live = await bucket.get(key);
  if (!live) return null;
  const version = await keep(bucket, key, live);
  if ((await bucket.head(key))?.etag !== live.etag) {
    await dropDuplicate(bucket, key, version, live.etag);
    throw conflict(key);
  }
  // The copy above can outlast the table lock's lease (a large file): the lease must still be ours.
  try {
    await confirm?.();
  } catch (err) {
    if ((await bucket.head(key))?.etag === live.etag) await bucket.delete(folderOf(key) + version);
    else await dropDuplicate(bucket, key, version, live.etag);
    throw err;
  }
  await bucket.delete(key);
  await pruneVersions(bucket, key, Math.max(1, keepCount));
  return version;
}

/**
 * Keeps only the newest `keep` versions, and the manifests (catalog/manifest.ts)
 * of the contents still live or kept: a version's content keeps its etag when
 * restored, so its manifest stays with it.
 */
async function pruneVersions(bucket: R2Bucket, key: string, keep: number): Promise<void> {
  const versions = await storedVersions(bucket, key);
  const cut = Math.max(0, versions.length - keep);
  const old = versions.slice(0, cut).map((v) => v.object);
  if (old.length) await bucket.delete(old);
  const alive = new Set(versions.slice(cut).flatMap((v) => (v.copiedFrom ? [v.copiedFrom] : [])));
  const live = await bucket.head(key);
  if (live) alive.add(live.etag);
  await pruneManifests(bucket, key, alive);
}

/** Makes a version live again (the current live object is kept as a version first). */
export async function restoreVersion(
  bucket: R2Bucket,
  key: string,
  version: string | undefined,
  keepCount: number,
  confirm?: () => Promise<void>,
): Promise<{ restored: string; kept: string | null; object: R2Object }> {
  const versions = await storedVersions(bucket, key);
  const chosen = version === undefined ? versions[versions.length - 1] : versions.find((v) => v.version === version);
  if (!chosen) {
    throw new AppError(
      "VERSION_NOT_FOUND",
      versions.length === 0
        ? `"${key}" has no kept versions.`
        : `"${key}" has no version "${version}". Kept versions: ${versions.map((v) => v.version).join(", ")}.`,
    );
  }
  const vanished = () => new AppError("VERSION_NOT_FOUND", `The version "${chosen.version}" of "${key}" vanished while being restored.`);
  // Pruned after the chosen version is deleted below (it must not count against `keepCount`).
  const { object, previous } = await replaceKeeping(bucket, key, {}, async (onlyIf) => {
    const source = await bucket.get(chosen.object);
    if (!source) throw vanished();
    // Keeping the live object can outlast the table lock's lease: it must still be ours before anything is made live.
    try {
      await confirm?.();
    } catch (err) {
      await source.body.cancel();
      throw err;
    }
    const { [COPIED_FROM]: _, ...customMetadata } = source.customMetadata ?? {};
    return bucket.put(key, source.body, { httpMetadata: source.httpMetadata, customMetadata, onlyIf });
  });
  // The restored content's manifest (under the etag it had when it was live) applies again.
  if (chosen.copiedFrom) await carryManifest(bucket, key, chosen.copiedFrom, object.etag);
  await bucket.delete(chosen.object);
  await pruneVersions(bucket, key, keepCount);
  return { restored: chosen.version, kept: previous, object };
}
