/**
 * The same /data requests on two builds of the Worker in one run, in workerd
 * (Miniflare, local R2), alternating, for before/after CPU figures that share
 * the machine's load: `npx tsx bench/workerd-ab.ts OTHER_TREE [runs]`, where
 * OTHER_TREE is a checkout of the other version (its src/ is bundled).
 * CPU is workerd's (utime + stime from /proc, 10 ms ticks).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS } from "../scripts/wrangler-config.mjs";
import { phpEncode } from "../test/helper-server";

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
  const ps = execFileSync("ps", ["-eo", "pid,ppid,comm"])
    .toString()
    .split("\n")
    .map((l) => l.trim().split(/\s+/));
  const pids = ps.filter((p) => Number(p[1]) === process.pid && p[2] === "workerd").map((p) => Number(p[0]));
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
