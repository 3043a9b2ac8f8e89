/**
 * Writes an upload to R2 while it streams in, in constant memory: small files
 * are buffered and put at the end; past PART_BYTES the data goes to a
 * multipart upload in equal parts (R2 wants every part but the last the same
 * size). Nothing is visible at the key until `finish()`, and `abort()` leaves
 * the live object as it was.
 *
 * `finish(onlyIf)` makes the object live with an R2 conditional write, so a
 * concurrent writer cannot be overwritten unseen. A multipart upload's
 * `complete` takes no condition, so a large upload is assembled at a staging
 * key (`.staging/<uuid>`, a dot-folder: never a table) and then copied to the
 * key with a conditional put (R2 to R2, streamed); the staging object is
 * always deleted.
 */
import { concat } from "../streams/bytes";

export const PART_BYTES = 8 * 1024 * 1024;
export const STAGING_PREFIX = ".staging/";

export class ObjectWriter {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private upload?: R2MultipartUpload;
  private parts: R2UploadedPart[] = [];
  private readonly staging = `${STAGING_PREFIX}${crypto.randomUUID()}`;
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
    this.upload ??= await this.bucket.createMultipartUpload(this.staging, this.options);
    this.parts.push(await this.upload.uploadPart(this.parts.length + 1, data));
  }

  /** Makes the upload live if `onlyIf` holds; null when it did not (nothing is changed then). */
  async finish(onlyIf: R2Conditional): Promise<R2Object | null> {
    if (!this.upload) return this.bucket.put(this.key, concat(this.chunks, this.buffered), { ...this.options, onlyIf });
    if (this.buffered > 0) await this.flush(this.buffered);
    const upload = this.upload;
    this.upload = undefined;
    try {
      await upload.complete(this.parts);
      const staged = await this.bucket.get(this.staging);
      if (!staged) throw new Error(`the staged upload ${this.staging} vanished`);
      return await this.bucket.put(this.key, staged.body, { ...this.options, onlyIf });
    } finally {
      await this.bucket.delete(this.staging);
    }
  }

  async abort(): Promise<void> {
    await this.upload?.abort().catch(() => {});
    this.upload = undefined;
    this.chunks = [];
  }
}
