import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS } from "../scripts/wrangler-config.mjs";
import { DURABLE_OBJECTS, workerdPids, workerModules } from "../test/setup/worker";

const TOKEN = "bench-token";
const MB = 1024 * 1024;
const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
const cpu = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};

async function measure(file: string): Promise<string> {
  const persist = mkdtempSync(join(tmpdir(), "upload-memory-"));
  const mf = new Miniflare({
    modules: await workerModules(),
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: COMPATIBILITY_FLAGS,
    r2Buckets: ["DATA"],
    r2Persist: persist,
    durableObjects: DURABLE_OBJECTS,
    bindings: { CONNECTOR_TOKEN: TOKEN, UPLOAD_TOKEN: TOKEN, UPLOAD_KEEP_VERSIONS: "0" },
  });
  try {
    const url = (await mf.ready).href.replace(/\/$/, "");
    const pid = workerdPids()[0];
    const base = rss(pid);
    const cpu0 = cpu(pid);
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
    const t0 = performance.now();
    const res = await fetch(`${url}/files/${basename(file)}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-length": String(statSync(file).size) },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: "half",
    } as RequestInit);
    const answer = (await res.json()) as { rows?: number; error?: { code: string } };
    const ms = performance.now() - t0;
    clearInterval(sampler);
    peak = Math.max(peak, rss(pid));
    const size = statSync(file).size;
    return `| ${basename(file)} | ${(size / MB).toFixed(1)} MB | ${res.status} ${answer.rows !== undefined ? `${answer.rows.toLocaleString("en")} rows` : answer.error?.code} | ${(ms / 1000).toFixed(1)} s | ${(cpu(pid) - cpu0).toFixed(1)} s | ${(base / MB).toFixed(0)} MB | ${(peak / MB).toFixed(0)} MB | +${((peak - base) / MB).toFixed(0)} MB |`;
  } finally {
    await mf.dispose();
    rmSync(persist, { recursive: true, force: true });
  }
}

const lines = ["| file | size | answer | wall | workerd CPU | RSS before | peak RSS | growth |", "|---|---|---|---|---|---|---|---|"];
for (const file of process.argv.slice(2)) lines.push(await measure(file));
console.log(lines.join("\n"));
