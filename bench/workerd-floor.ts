import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS } from "../scripts/wrangler-config.mjs";
import { DURABLE_OBJECTS, workerdPids, workerModules } from "../test/setup/worker";

const cpuOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};
const mf = new Miniflare({
  modules: await workerModules(),
  durableObjects: DURABLE_OBJECTS,
  compatibilityDate: COMPATIBILITY_DATE,
  compatibilityFlags: COMPATIBILITY_FLAGS,
  r2Buckets: ["DATA"],
  r2Persist: mkdtempSync(join(tmpdir(), "floor-r2-")),
  bindings: { CONNECTOR_TOKEN: "t", UPLOAD_TOKEN: "u" },
  host: "127.0.0.1",
  port: 0,
});
const url = (await mf.ready).href.replace(/\/$/, "");
const pid = Number(workerdPids().pop());
const buf = readFileSync(join(import.meta.dirname, "data", "bench.csv"));
await ((await mf.getR2Bucket("DATA")) as unknown as R2Bucket).put(
  "bench.csv",
  buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
);
for (let k = 0; k < 3; k++) {
  const c0 = cpuOf(pid);
  const t0 = performance.now();
  const res = await fetch(`${url}/files/bench.csv`, { headers: { authorization: "Bearer u" } });
  const bytes = (await res.arrayBuffer()).byteLength;
  console.log(
    JSON.stringify({
      request: "GET /files/bench.csv",
      status: res.status,
      bytes,
      cpuS: +(cpuOf(pid) - c0).toFixed(2),
      wallMs: Math.round(performance.now() - t0),
    }),
  );
}
await mf.dispose();
