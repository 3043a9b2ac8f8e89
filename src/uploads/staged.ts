/**
 * Uploads of formats read with random access (XLSX: a zip's directory is at
 * its end). Such an upload cannot be checked while it streams in, so it is
 * written to a staging object first (`.staging/<uuid>`, a dot-folder: never
 * a table), checked there with range reads pinned to the staged etag, and
 * only then made live with the conditional write, as streamed uploads are.
 * The staging object is always deleted.
 */
import type { FileAccess } from "../model";
import { rangeAccess } from "../source/open";
import { ObjectWriter } from "./writer";

/** A dot-folder: never listed as a table. */
export const STAGING_PREFIX = ".staging/";

export interface Staged {
  access: FileAccess;
  /** Copies the staged object to `key` if `onlyIf` holds (R2 to R2, streamed); null when it did not. */
  promote(key: string, onlyIf: R2Conditional): Promise<R2Object | null>;
  discard(): Promise<void>;
}

/**
 * Staging objects older than this are debris: an isolate that died between staging an upload and
 * discarding it (an upload's whole check is bounded by the Worker's CPU and wall limits, far below).
 */
export const STAGING_MAX_AGE_MS = 6 * 60 * 60 * 1000;

/** Deletes staging debris (see STAGING_MAX_AGE_MS), at most one listing page per call; returns how many. */
export async function sweepStaging(bucket: R2Bucket, now = Date.now()): Promise<number> {
  const page = await bucket.list({ prefix: STAGING_PREFIX, limit: 1000 });
  const old = page.objects.filter((o) => now - o.uploaded.getTime() > STAGING_MAX_AGE_MS).map((o) => o.key);
  if (old.length > 0) await bucket.delete(old);
  return old.length;
}

/** A writer for an upload that is staged before it is checked. */
export function stagingWriter(bucket: R2Bucket, options: R2PutOptions): { writer: ObjectWriter; stagingKey: string } {
  const stagingKey = `${STAGING_PREFIX}${crypto.randomUUID()}`;
  return { writer: new ObjectWriter(bucket, stagingKey, options), stagingKey };
}

/** Completes a staging writer (every byte arrived) and opens the staged object for range reads. */
export async function stage(bucket: R2Bucket, writer: ObjectWriter, stagingKey: string, options: R2PutOptions): Promise<Staged> {
  const object = await writer.finish({});
  if (!object) throw new Error(`the staged upload ${stagingKey} was not written`);
  const { read, stream } = rangeAccess(bucket, stagingKey, object.etag);
  return {
    access: { size: object.size, read: read!, stream: stream! },
    async promote(key, onlyIf) {
      const staged = await bucket.get(stagingKey, { onlyIf: { etagMatches: object.etag } });
      if (!staged || !("body" in staged)) throw new Error(`the staged upload ${stagingKey} vanished`);
      return bucket.put(key, staged.body, { ...options, onlyIf });
    },
    discard: async () => {
      await bucket.delete(stagingKey);
    },
  };
}
