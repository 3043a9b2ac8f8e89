/**
 * An R2 bucket in memory, with the calls the Worker makes (get with ranges,
 * head, put, delete, list, multipart uploads): enough to run compilation and
 * the compiled answer in plain Node for CPU figures (bench/compiled-node.ts).
 * It counts the bytes every get returned.
 */
import { createHash } from "node:crypto";

type Stored = { bytes: Uint8Array; etag: string };

async function bytesOf(value: unknown): Promise<Uint8Array> {
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).arrayBuffer());
  throw new Error(`cannot store ${typeof value}`);
}

const etagOf = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

export class MemoryR2 {
  readonly objects = new Map<string, Stored>();
  bytesRead = 0;
  gets = 0;

  private object(key: string, s: Stored) {
    return {
      key,
      size: s.bytes.byteLength,
      etag: s.etag,
      httpEtag: `"${s.etag}"`,
      uploaded: new Date(),
      customMetadata: {},
      httpMetadata: {},
    };
  }

  async head(key: string) {
    const s = this.objects.get(key);
    return s ? this.object(key, s) : null;
  }

  async get(
    key: string,
    options: { range?: { offset?: number; length?: number; suffix?: number }; onlyIf?: { etagMatches?: string } } = {},
  ) {
    const s = this.objects.get(key);
    if (!s) return null;
    if (options.onlyIf?.etagMatches && options.onlyIf.etagMatches !== s.etag) return this.object(key, s);
    let part = s.bytes;
    const r = options.range;
    if (r) {
      const from = r.suffix !== undefined ? Math.max(0, s.bytes.byteLength - r.suffix) : (r.offset ?? 0);
      const to = r.length !== undefined ? Math.min(s.bytes.byteLength, from + r.length) : s.bytes.byteLength;
      part = s.bytes.subarray(from, to);
    }
    this.bytesRead += part.byteLength;
    this.gets++;
    const chunk = 1 << 20;
    return {
      ...this.object(key, s),
      body: new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < part.byteLength; i += chunk) c.enqueue(part.slice(i, i + chunk));
          c.close();
        },
      }),
      arrayBuffer: async () => part.slice().buffer,
      text: async () => new TextDecoder().decode(part),
      json: async () => JSON.parse(new TextDecoder().decode(part)),
    };
  }

  async put(key: string, value: unknown) {
    const bytes = await bytesOf(value);
    const s = { bytes, etag: etagOf(bytes) };
    this.objects.set(key, s);
    return this.object(key, s);
  }

  async delete(keys: string | string[]) {
    for (const k of Array.isArray(keys) ? keys : [keys]) this.objects.delete(k);
  }

  async list(options: { prefix?: string; cursor?: string; startAfter?: string; limit?: number } = {}) {
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(options.prefix ?? "") && (!options.startAfter || k > options.startAfter))
      .sort();
    return { objects: keys.map((k) => this.object(k, this.objects.get(k)!)), truncated: false, delimitedPrefixes: [] };
  }

  async createMultipartUpload(key: string) {
    const parts = new Map<number, Uint8Array>();
    return {
      uploadPart: async (n: number, data: unknown) => {
        parts.set(n, await bytesOf(data));
        return { partNumber: n, etag: String(n) };
      },
      complete: async (done: { partNumber: number }[]) => {
        const all = done.map((p) => parts.get(p.partNumber)!);
        const out = new Uint8Array(all.reduce((n, p) => n + p.byteLength, 0));
        let at = 0;
        for (const p of all) {
          out.set(p, at);
          at += p.byteLength;
        }
        return this.put(key, out);
      },
      abort: async () => parts.clear(),
    };
  }
}
