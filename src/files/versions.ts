/**
 * Previous versions of replaced or deleted objects, kept under
 * `.versions/<key>/<timestamp>` (a dot-folder: never a table, never an upload
 * target). Copies stream R2 to R2 in constant memory.
 */
import { AppError } from "../http/errors";

export const VERSIONS_PREFIX = ".versions/";

const prefixOf = (key: string) => `${VERSIONS_PREFIX}${key}/`;

export interface VersionInfo {
  version: string;
  size: number;
  uploaded: string;
}

export async function listVersions(bucket: R2Bucket, key: string): Promise<VersionInfo[]> {
  const out: VersionInfo[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: prefixOf(key), cursor });
    for (const o of page.objects) out.push({ version: o.key.slice(prefixOf(key).length), size: o.size, uploaded: o.uploaded.toISOString() });
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out.sort((a, b) => a.version.localeCompare(b.version));
}

async function copy(bucket: R2Bucket, from: string, to: string): Promise<R2Object | null> {
  const obj = await bucket.get(from);
  if (!obj) return null;
  return bucket.put(to, obj.body, { httpMetadata: obj.httpMetadata, customMetadata: obj.customMetadata });
}

/** Saves the live object (if any) as a new version; returns its id. */
export async function keepVersion(bucket: R2Bucket, key: string): Promise<string | null> {
  let version = new Date().toISOString().replace(/[:.]/g, "-");
  for (let n = 2; await bucket.head(prefixOf(key) + version); n++) version = `${version.replace(/_\d+$/, "")}_${n}`;
  return (await copy(bucket, key, prefixOf(key) + version)) ? version : null;
}

/** Keeps only the newest `keep` versions. */
export async function pruneVersions(bucket: R2Bucket, key: string, keep: number): Promise<void> {
  const versions = await listVersions(bucket, key);
  const old = versions.slice(0, Math.max(0, versions.length - keep)).map((v) => prefixOf(key) + v.version);
  if (old.length) await bucket.delete(old);
}

/** Makes a version live again (the current live object is kept as a version first). */
export async function restoreVersion(bucket: R2Bucket, key: string, version: string | undefined): Promise<{ restored: string; kept: string | null; object: R2Object }> {
  const versions = await listVersions(bucket, key);
  const chosen = version ?? versions[versions.length - 1]?.version;
  if (!chosen || !versions.some((v) => v.version === chosen)) {
    throw new AppError(
      "VERSION_NOT_FOUND",
      versions.length === 0
        ? `"${key}" has no kept versions.`
        : `"${key}" has no version "${version}". Kept versions: ${versions.map((v) => v.version).join(", ")}.`,
    );
  }
  const kept = await keepVersion(bucket, key);
  const object = await copy(bucket, prefixOf(key) + chosen, key);
  if (!object) throw new AppError("VERSION_NOT_FOUND", `The version "${chosen}" of "${key}" vanished while being restored.`);
  await bucket.delete(prefixOf(key) + chosen);
  return { restored: chosen, kept, object };
}
