/** The real Worker in workerd (Miniflare) on loopback, for tests that run in Node. */

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { build } from "esbuild";
import { Miniflare, type MiniflareOptions } from "miniflare";
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS } from "../../scripts/wrangler-config.mjs";

/** The Worker bundled as wrangler would (ESM, workerd conditions). */
export async function bundleWorker(entry = join(import.meta.dirname, "..", "..", "src", "index.ts")): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    // The runtime's own modules (the Durable Object base class), as wrangler leaves them.
    external: ["cloudflare:*"],
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0].text;
}

/**
 * The bundled Worker as Miniflare's `modules` option. Listed, not discovered: Miniflare refuses to
 * walk a bundle with a dynamic import (unzipit's worker_threads branch, never taken in workerd).
 */
export async function workerModules(): Promise<{ type: "ESModule"; path: string; contents: string }[]> {
  return [{ type: "ESModule", path: "worker.mjs", contents: await bundleWorker() }];
}

/** The Durable Objects wrangler.jsonc binds (the table write lock), as Miniflare options. */
export const DURABLE_OBJECTS = { TABLE_LOCK: { className: "TableLock", useSQLite: true } };

/** The workerd processes this Node process started (Miniflare's), newest last: to read their RSS and CPU from /proc. */
export function workerdPids(): number[] {
  return execFileSync("ps", ["-eo", "pid,ppid,comm"])
    .toString()
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => Number(p[1]) === process.pid && p[2] === "workerd")
    .map((p) => Number(p[0]));
}

/** A loopback port that was free a moment ago (for a Worker that must know its own address). */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** What a caller may add to the Worker's Miniflare: its own stdio handling, the test-only trigger endpoints. */
export type WorkerOptions = Partial<Pick<MiniflareOptions, "handleRuntimeStdio" | "unsafeTriggerHandlers">>;

/** workerd's output read and dropped (a benchmark's workerd must not block on a full pipe). */
export function drainStdio(stdout: Readable, stderr: Readable): void {
  stdout.resume();
  stderr.resume();
}

export async function startWorker(
  bindings: Record<string, string>,
  port = 0,
  options: WorkerOptions = {},
): Promise<{ mf: Miniflare; url: string; bucket: R2Bucket }> {
  const mf = new Miniflare({
    modules: await workerModules(),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    r2Buckets: ["DATA"],
    durableObjects: DURABLE_OBJECTS,
    bindings,
    host: "127.0.0.1",
    port,
    ...options,
  });
  const url = (await mf.ready).href.replace(/\/$/, "");
  const bucket = (await mf.getR2Bucket("DATA")) as unknown as R2Bucket;
  return { mf, url, bucket };
}
