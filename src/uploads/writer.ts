/**
 * Writes an upload to R2 while it streams in, in constant memory: small files
 * are buffered and put at the end; past PART_BYTES the data goes to a
 * multipart upload in equal parts (R2 wants every part but the last the same
 * size). Nothing is visible at the key until `finish()`, and `abort()` leaves
 * the live object as it was.
 *
 * `finish(onlyIf)` makes the object live if `onlyIf` holds. A small file is
 * put with that R2 conditional write. A multipart upload's `complete` takes
 * no condition (in the Workers binding), so a large upload is assembled at
 * the key itself and the condition is checked right before `complete`
 * (a head), after `beforeCommit` (the table lock's confirmation). The
 * table's write lock (uploads/lock.ts) is what makes this safe: no other
 * write through the Worker can land between the check and the complete, so
 * the check only guards against a write around the Worker (`wrangler r2
 * object put`), which could slip into those milliseconds. Earlier releases
 * assembled the upload at a staging key and copied it to the key with a
 * conditional put: a second full R2-to-R2 copy of every large upload.
 */
import { concat } from "../streams/bytes";

export const PART_BYTES = 8 * 1024 * 1024;

export class ObjectWriter {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private upload?: R2MultipartUpload;
  private parts: R2UploadedPart[] = [];
  size = 0;

  constructor(
    private readonly bucket: R2Bucket,
    private readonly key: string,
    private readonly options: R2PutOptions = {},
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    this.size += chunk.byteLength;
    while (this.buffered >= PART_BYTES) await this.flush(PART_BYTES);
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0];
      const need = n - at;
      if (c.byteLength <= need) {
        out.set(c, at);
        at += c.byteLength;
        this.chunks.shift();
      } else {
        out.set(c.subarray(0, need), at);
        this.chunks[0] = c.subarray(need);
        at += need;
      }
    }
    this.buffered -= n;
    return out;
  }

  private async flush(n: number): Promise<void> {
    const data = this.take(n);
    this.upload ??= await this.bucket.createMultipartUpload(this.key, this.options);
    this.parts.push(await this.upload.uploadPart(this.parts.length + 1, data));
  }

  /** Makes the upload live if `onlyIf` holds; null when it did not (nothing is changed then). */
  async finish(onlyIf: R2Conditional, beforeCommit: () => Promise<void> = async () => {}): Promise<R2Object | null> {
    if (!this.upload) {
      await beforeCommit();
      return this.bucket.put(this.key, concat(this.chunks, this.buffered), { ...this.options, onlyIf });
    }
    if (this.buffered > 0) await this.flush(this.buffered);
    await beforeCommit();
    const upload = this.upload;
    if (!holds(onlyIf, (await this.bucket.head(this.key))?.etag ?? null)) {
      await this.abort();
      return null;
    }
    const object = await upload.complete(this.parts); // a failed complete is aborted by abort()
    this.upload = undefined;
    return object;
  }

  async abort(): Promise<void> {
    await this.upload?.abort().catch(() => {});
    this.upload = undefined;
    this.chunks = [];
  }
}

/** Whether the live etag (null: no object) satisfies the conditions replaceKeeping uses. */
function holds(onlyIf: R2Conditional, etag: string | null): boolean {
  if (onlyIf.etagMatches !== undefined && etag !== onlyIf.etagMatches) return false;
  if (onlyIf.etagDoesNotMatch === "*" && etag !== null) return false;
  if (onlyIf.etagDoesNotMatch !== undefined && onlyIf.etagDoesNotMatch !== "*" && etag === onlyIf.etagDoesNotMatch) return false;
  return true;
}
