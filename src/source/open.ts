/**
 * A table's bytes: an R2 object or a URL, gunzipped when the name says `.gz`.
 * `version` identifies the content (R2 etag, or the URL's ETag/Last-Modified)
 * and keys the description cache; the same read serves the whole request, so
 * a file replaced mid-request is never mixed with its successor.
 */
import type { Config, Env } from "../config/config";
import { AppError } from "../errors";
import type { TableEntry } from "../model";
import { type Bytes, readStream } from "../streams/bytes";
import { gunzip } from "../streams/gunzip";
import { fetchAllowed, limitedBody } from "./url";
import { checkedUrlBody } from "./url-body";

export { gunzip };

export interface Opened {
  version: string | null;
  bytes: Bytes;
  /** A range was applied: the stream may end before the file does. */
  rangeLimited: boolean;
  /** The file's full size in bytes, when the source says it. */
  size?: number;
  /**
   * Random access to this same version (R2 range reads, refused if the object
   * changed meanwhile): for formats whose metadata is not at the start. Absent
   * for URL tables and compressed files.
   */
  read?: (offset: number, length: number) => Promise<Uint8Array>;
  /** The same range as a stream (a large zip member). */
  stream?: (offset: number, length: number) => Bytes;
}

/** One range of one version of an R2 object; a replaced or deleted object is TABLE_NOT_FOUND. */
async function rangeOf(bucket: R2Bucket, key: string, etag: string, offset: number, length: number): Promise<R2ObjectBody> {
  const part = await bucket.get(key, { range: { offset, length }, onlyIf: { etagMatches: etag } });
  if (!part || !("body" in part)) throw vanished(key);
  return part;
}

/** Random access to one version of an R2 object, as bytes or as a stream. */
export function rangeAccess(bucket: R2Bucket, key: string, etag: string): Pick<Opened, "read" | "stream"> {
  return {
    read: async (offset, length) => new Uint8Array(await (await rangeOf(bucket, key, etag, offset, length)).arrayBuffer()),
    stream: (offset, length) =>
      (async function* (): Bytes {
        yield* readStream((await rangeOf(bucket, key, etag, offset, length)).body);
      })(),
  };
}

export interface OpenOptions {
  /** Only this many bytes are needed (a range read where the source allows it). */
  prefixBytes?: number;
  /** Aborted when the client is gone: a URL read is cancelled at once. */
  signal?: AbortSignal;
  /** How many first bytes the reader needs before it can answer (the description's sample). */
  sampleBytes?: number;
}

function vanished(key: string): AppError {
  return new AppError(
    "TABLE_NOT_FOUND",
    `The object "${key}" was removed from the bucket while the request was being answered. Call /table_list again.`,
  );
}

export async function openTable(env: Env, config: Config, entry: TableEntry, options: OpenOptions = {}): Promise<Opened> {
  const src = entry.source;
  if (src.kind === "r2") {
    const range = options.prefixBytes !== undefined && !src.gzip ? { offset: 0, length: options.prefixBytes } : undefined;
    let obj: R2ObjectBody | null;
    try {
      obj = await env.DATA.get(src.key, range ? { range } : undefined);
    } catch {
      // An empty object has no satisfiable range.
      obj = await env.DATA.get(src.key);
    }
    if (!obj) throw vanished(src.key);
    if (src.gzip) return { version: obj.etag, bytes: gunzip(obj.body), rangeLimited: false };
    return {
      version: obj.etag,
      bytes: readStream(obj.body),
      rangeLimited: range !== undefined,
      size: obj.size,
      ...rangeAccess(env.DATA, src.key, obj.etag),
    };
  }
  const headers: Record<string, string> = {};
  if (options.prefixBytes !== undefined && !src.gzip) headers.range = `bytes=0-${options.prefixBytes - 1}`;
  const res = await fetchAllowed(src.table.url, config, entry.code, headers);
  const version = res.headers.get("etag") ?? res.headers.get("last-modified");
  const stream = res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const url = res.url || src.table.url;
  // Timeouts and the size cap on the raw stream; then the checks of what came (HTML, cut bodies).
  const limited = limitedBody(stream, entry.code, new URL(url).host, {
    windowMs: config.fetchTimeoutMs,
    maxBytes: config.urlMaxBytes,
    signal: options.signal,
    prefix: options.sampleBytes ? { bytes: options.sampleBytes, withinMs: 2 * config.fetchTimeoutMs } : undefined,
  });
  const body = checkedUrlBody(res, limited, url, entry.code, src.table.format);
  const total = /\/(\d+)$/.exec(res.headers.get("content-range") ?? "")?.[1];
  return { version, bytes: src.gzip ? gunzip(body) : body, rangeLimited: res.status === 206, size: total ? Number(total) : undefined };
}
