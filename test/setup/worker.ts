/** The real Worker in workerd (Miniflare) on loopback, for tests that run in Node. */

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
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

export async function startWorker(bindings: Record<string, string>, port = 0): Promise<{ mf: Miniflare; url: string; bucket: R2Bucket }> {
  const mf = new Miniflare({
    modules: await workerModules(),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    r2Buckets: ["DATA"],
    durableObjects: DURABLE_OBJECTS,
    bindings,
    host: "127.0.0.1",
    port,
  });
  const url = (await mf.ready).href.replace(/\/$/, "");
  const bucket = (await mf.getR2Bucket("DATA")) as unknown as R2Bucket;
  return { mf, url, bucket };
}
