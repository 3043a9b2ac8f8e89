import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS } from "../scripts/wrangler-config.mjs";
import { phpEncode } from "../test/helper-server";
import { workerdPids } from "../test/setup/worker";

const [other, runs = "3"] = process.argv.slice(2);
const TOKEN = "t";
const bundle = async (root: string) =>
  (
    await build({
      entryPoints: [join(root, "src", "index.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      conditions: ["workerd", "worker", "browser"],
      write: false,
      logLevel: "silent",
    })
  ).outputFiles[0].text;
const cpuOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};

async function start(script: string) {
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    r2Buckets: ["DATA"],
    r2Persist: mkdtempSync(join(tmpdir(), "ab-r2-")),
    bindings: { CONNECTOR_TOKEN: TOKEN },
    host: "127.0.0.1",
    port: 0,
  });
  const url = (await mf.ready).href.replace(/\/$/, "");
  const pids = workerdPids();
  const buf = readFileSync(join(import.meta.dirname, "data", "bench.csv"));
  await ((await mf.getR2Bucket("DATA")) as unknown as R2Bucket).put(
    "bench.csv",
    buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
  );
  return { mf, url, pid: pids[pids.length - 1] };
}

const SCENARIOS: Record<string, Record<string, unknown>> = {
  full: { table: "bench", limit: 0 },
  range: {
    table: "bench",
    select: ["ID", "AMOUNT", "REGION"],
    filter: { ">=ORDER_DATE": "01.03.2024", "<=ORDER_DATE": "31.03.2024", "=REGION": ["Kazan", "Omsk"] },
    limit: 0,
  },
};

const builds = { before: await start(await bundle(other)), after: await start(await bundle(join(import.meta.dirname, ".."))) };
for (let k = 0; k < Number(runs); k++) {
  for (const [scenario, params] of Object.entries(SCENARIOS)) {
    for (const [name, w] of Object.entries(builds)) {
      const [body] = await phpEncode([{ connection: { token: TOKEN }, ...params }]);
      const c0 = cpuOf(w.pid);
      const t0 = performance.now();
      const res = await fetch(`${w.url}/data`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "accept-encoding": "identity" /* no gzip by Miniflare's edge emulation: see run.ts */,
        },
        body,
      });
      const bytes = (await res.arrayBuffer()).byteLength;
      console.log(
        JSON.stringify({
          build: name,
          scenario,
          status: res.status,
          bytes,
          cpuS: +(cpuOf(w.pid) - c0).toFixed(2),
          wallMs: Math.round(performance.now() - t0),
        }),
      );
    }
  }
}
for (const w of Object.values(builds)) await w.mf.dispose();
