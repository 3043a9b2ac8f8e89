/**
 * Writes an upload to R2 while it streams in, in constant memory: small files
 * are buffered and put at the end; past PART_BYTES the data goes to a
 * multipart upload in equal parts (R2 wants every part but the last the same
 * size). Nothing is visible at the key until `finish()`: a multipart upload
 * replaces the object atomically on completion, and `abort()` leaves the live
 * object as it was.
 */
import { concat } from "../source/bytes";

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

  async finish(): Promise<R2Object> {
    if (!this.upload) return (await this.bucket.put(this.key, concat(this.chunks, this.buffered), this.options))!;
    if (this.buffered > 0) await this.flush(this.buffered);
    return this.upload.complete(this.parts);
  }

  async abort(): Promise<void> {
    await this.upload?.abort().catch(() => {});
    this.chunks = [];
  }
}
