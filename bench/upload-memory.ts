// Memory of uploads (issue 12: "a 50 MB XLSX and a 1 GB CSV upload stay flat"): each file is PUT
// through the Worker's own /files in a fresh workerd, streamed from disk with its Content-Length,
// while workerd's RSS is sampled every 20 ms. Flat means the peak does not grow with the file:
// compare a 122 MB and a 1 GB CSV. workerd's RSS also holds Miniflare's local R2 simulator.
//
//   npx tsx bench/upload-memory.ts FILE [FILE…]        (files: bench/data/*.csv, a .xlsx from
//   `/usr/bin/python3 scripts/make-export-fixtures.py --big 1000000`)
import { execFileSync } from "node:child_process";
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import { COMPATIBILITY_DATE, COMPATIBILITY_FLAGS } from "../scripts/wrangler-config.mjs";
import { DURABLE_OBJECTS, workerModules } from "../test/setup/worker";

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
    const ps = execFileSync("ps", ["-eo", "pid,ppid,comm"]).toString();
    const pid = Number(
      ps
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .find((p) => Number(p[1]) === process.pid && p[2] === "workerd")?.[0],
    );
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
