/**
 * The Worker with its R2 bucket in the isolate's own memory: the bench's
 * measure of what a request costs the Worker itself. In `npm run bench` the
 * workerd process also runs Miniflare's local R2 (a Durable Object with SQLite
 * and files), which costs about a millisecond of CPU per R2 call: on Cloudflare
 * that work is R2's, not the Worker's. This entry copies the objects whose
 * keys contain one of COPY_KEYS (a JSON list) from the real local bucket into
 * memory at the first request, keeping their etags, and serves every later
 * request from there (reads only: head, get with ranges and conditions, list).
 * Bodies are copied out of memory as R2's binding copies them into the isolate.
 */

import type { Env } from "../src/config/config";
import worker from "../src/index";

export { TableLock } from "../src/uploads/lock";

interface Stored {
  key: string;
  bytes: Uint8Array;
  etag: string;
  size: number;
  uploaded: Date;
  httpMetadata: R2HTTPMetadata;
  customMetadata: Record<string, string>;
}

const utf8 = new TextEncoder();
const byBytes = (a: string, b: string) => {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
};

class IsolateR2 {
  private readonly objects = new Map<string, Stored>();
  private sorted: string[] = [];

  async load(from: R2Bucket, wanted: string[]): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await from.list({ cursor, limit: 1000 });
      for (const o of page.objects) {
        if (!wanted.some((w) => o.key.includes(w))) continue;
        const got = await from.get(o.key);
        if (!got) continue;
        this.objects.set(o.key, {
          key: o.key,
          bytes: new Uint8Array(await got.arrayBuffer()),
          etag: got.etag,
          size: got.size,
          uploaded: got.uploaded,
          httpMetadata: got.httpMetadata ?? {},
          customMetadata: got.customMetadata ?? {},
        });
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    this.sorted = [...this.objects.keys()].sort(byBytes);
  }

  private meta(s: Stored, range?: R2Range) {
    return {
      key: s.key,
      size: s.size,
      etag: s.etag,
      httpEtag: `"${s.etag}"`,
      uploaded: s.uploaded,
      httpMetadata: s.httpMetadata,
      customMetadata: s.customMetadata,
      version: s.etag,
      checksums: {},
      storageClass: "Standard",
      range,
      writeHttpMetadata: () => {},
    };
  }

  async head(key: string) {
    const s = this.objects.get(key);
    return s ? this.meta(s) : null;
  }

  async get(key: string, options: R2GetOptions = {}) {
    const s = this.objects.get(key);
    if (!s) return null;
    const cond = options.onlyIf as R2Conditional | undefined;
    if (cond?.etagMatches !== undefined && cond.etagMatches !== s.etag) return this.meta(s);
    if (cond?.etagDoesNotMatch !== undefined && cond.etagDoesNotMatch === s.etag) return this.meta(s);
    const r = options.range as { offset?: number; length?: number; suffix?: number } | undefined;
    let from = 0;
    let to = s.size;
    if (r?.suffix !== undefined) from = Math.max(0, s.size - r.suffix);
    else if (r) {
      from = Math.min(r.offset ?? 0, s.size);
      to = r.length !== undefined ? Math.min(s.size, from + r.length) : s.size;
    }
    const part = s.bytes.subarray(from, to);
    const copy = () => part.slice();
    return {
      ...this.meta(s, r ? { offset: from, length: to - from } : undefined),
      get body() {
        return new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(copy()), c.close()) });
      },
      bodyUsed: false,
      arrayBuffer: async () => copy().buffer,
      bytes: async () => copy(),
      text: async () => new TextDecoder().decode(part),
      json: async () => JSON.parse(new TextDecoder().decode(part)),
      blob: async () => new Blob([copy()]),
    };
  }

  async list(options: R2ListOptions = {}) {
    const limit = Math.min(options.limit ?? 1000, 1000);
    let keys = this.sorted;
    if (options.prefix) keys = keys.filter((k) => k.startsWith(options.prefix!));
    const after = options.cursor ?? options.startAfter;
    if (after !== undefined) keys = keys.filter((k) => byBytes(k, after) > 0);
    const page = keys.slice(0, limit);
    const truncated = keys.length > limit;
    return {
      objects: page.map((k) => this.meta(this.objects.get(k)!)),
      truncated,
      ...(truncated ? { cursor: page[page.length - 1] } : {}),
      delimitedPrefixes: [],
    };
  }

  put(): never {
    throw new Error("IsolateR2 is read-only: the bench measures reads");
  }
  delete(): never {
    throw new Error("IsolateR2 is read-only: the bench measures reads");
  }
}

let memory: Promise<IsolateR2> | null = null;

export default {
  async fetch(request: Request, env: Env & { COPY_KEYS: string }, ctx: ExecutionContext): Promise<Response> {
    memory ??= (async () => {
      const r2 = new IsolateR2();
      await r2.load(env.DATA, JSON.parse(env.COPY_KEYS) as string[]);
      return r2;
    })();
    return worker.fetch(request, { ...env, DATA: (await memory) as unknown as R2Bucket }, ctx);
  },
};
