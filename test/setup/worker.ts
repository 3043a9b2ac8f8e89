/** The real Worker in workerd (Miniflare) on loopback, for tests that run in Node. */
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { join } from "node:path";

export async function startWorker(bindings: Record<string, string>): Promise<{ mf: Miniflare; url: string; bucket: R2Bucket }> {
  const out = await build({
    entryPoints: [join(import.meta.dirname, "..", "..", "src", "index.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    write: false,
    logLevel: "silent",
  });
  const mf = new Miniflare({
    modules: true,
    script: out.outputFiles[0].text,
    compatibilityDate: "2026-04-01",
    r2Buckets: ["DATA"],
    bindings,
    host: "127.0.0.1",
    port: 0,
  });
  const url = (await mf.ready).href.replace(/\/$/, "");
  const bucket = (await mf.getR2Bucket("DATA")) as unknown as R2Bucket;
  return { mf, url, bucket };
}
