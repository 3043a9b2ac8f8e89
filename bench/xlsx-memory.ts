/**
 * Memory and CPU of a large workbook in the real Worker (workerd via
 * Miniflare, local R2), issue 12: a 55 MB XLSX (1,000,000 rows × 7 columns,
 * 279 MB of sheet XML, 37 MB of shared strings) read end to end.
 *
 *   /usr/bin/python3 scripts/make-export-fixtures.py --big 1000000   # once (git-ignored, ~2 min)
 *   npx tsx bench/xlsx-memory.ts [rows]                               # rows: 1000000 (default) or 200000
 *
 * Per request: wall time, workerd's CPU time (utime + stime from
 * /proc/<pid>/stat, so other processes on the machine do not count) and its
 * peak RSS (VmRSS sampled every 20 ms), one fresh workerd per case (its local
 * R2 holds the workbook: RSS includes R2's own memory). Results: bench/XLSX.md.
 *
 *   npx tsx bench/xlsx-memory.ts 1000000 full put   # only these cases
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import { COMPATIBILITY_DATE } from "../scripts/wrangler-config.mjs";
import { phpEncode } from "../test/helper-server";
import { DURABLE_OBJECTS, workerdPids, workerModules } from "../test/setup/worker";

const TOKEN = "bench-token";
const rows = Number(process.argv[2] ?? 1_000_000);
const file = join(import.meta.dirname, "..", "test", "fixtures", "exports", `big-${rows}.xlsx`);
if (!existsSync(file)) {
  console.error(`${file} is missing: run /usr/bin/python3 scripts/make-export-fixtures.py --big ${rows}`);
  process.exit(1);
}

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
const cpu = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
};
const mb = (n: number) => `${Math.round(n / 1e6)} MB`;

const bytes = readFileSync(file);
const only = new Set(process.argv.slice(3));

/** A fresh workerd with the workbook (and its rows as CSV, for comparison) in local R2. */
async function fresh() {
  const mf = new Miniflare({
    // Listed, not discovered: Miniflare refuses to walk a bundle with a dynamic import (unzipit's worker_threads branch, never taken in workerd).
    modules: await workerModules(),
    durableObjects: DURABLE_OBJECTS,
    compatibilityDate: COMPATIBILITY_DATE,
    r2Buckets: ["DATA"],
    bindings: { CONNECTOR_TOKEN: TOKEN, UPLOAD_TOKEN: TOKEN },
    host: "127.0.0.1",
    port: 0,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.resume();
      stderr.pipe(process.stderr);
    },
  });
  const url = (await mf.ready).href.replace(/\/$/, "");
  const pid = workerdPids()[0];
  return { mf, url, pid, bucket: (await mf.getR2Bucket("DATA")) as unknown as R2Bucket };
}
let { mf, url, pid, bucket } = await fresh();

async function send(name: string, path: string, init: RequestInit): Promise<void> {
  const baseRss = rss(pid);
  const baseCpu = cpu(pid);
  let peak = baseRss;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 20);
  const t0 = performance.now();
  let answer = 0;
  let head = "";
  let tail = "";
  let status = 0;
  try {
    const res = await fetch(`${url}${path}`, init);
    status = res.status;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      answer += value.byteLength;
      const text = new TextDecoder().decode(value);
      if (head.length < 200) head += text.slice(0, 200);
      tail = (tail + text).slice(-120);
    }
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, rss(pid));
  console.log(
    `${name.padEnd(46)} ${status}  wall ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s  workerd CPU ${(cpu(pid) - baseCpu).toFixed(1).padStart(6)} s  answer ${mb(answer).padStart(7)}  RSS ${mb(baseRss)} → peak ${mb(peak)}`,
  );
  console.log(`    ${JSON.stringify(head.slice(0, 110))} … ${JSON.stringify(tail.slice(-70))}`);
}

async function data(name: string, params: Record<string, unknown>): Promise<void> {
  const [body] = await phpEncode([{ connection: { token: TOKEN }, ...params }]);
  await send(name, "/data", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
}

console.log(`workbook ${file}: ${mb(bytes.byteLength)}`);
const [describeBody] = await phpEncode([{ connection: { token: TOKEN }, table: "big" }]);
/** The same rows as CSV (ids, ISO dates, strings, numbers): the streamed path's figures on this machine. */
function csvOfRows(): Uint8Array {
  const parts: string[] = ["id,date,customer,product,qty,amount,comment\n"];
  for (let r = 1; r <= rows; r++)
    parts.push(
      `${r},2020-01-${String((r % 28) + 1).padStart(2, "0")},Customer ${r % 5000},Товар ${r % 800},${r % 99},${((r * 7.31) % 10000).toFixed(2)},note ${r} ${r * 7919}\n`,
    );
  return new TextEncoder().encode(parts.join(""));
}
const cases: [string, () => Promise<void>][] = [
  [
    "describe",
    () =>
      send("/table_description (shared strings + 10,000 rows)", "/table_description", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: describeBody,
      }),
  ],
  ["preview", () => data("/data limit=20 (preview)", { table: "big", limit: 20 })],
  [
    "filter",
    () => data("/data filter (every row read, 6 sent)", { table: "big", select: ["ID", "AMOUNT"], filter: { ">=ID": [String(rows - 5)] } }),
  ],
  ["full", () => data("/data full load (every row sent)", { table: "big", limit: 0 })],
  [
    "put",
    () =>
      send("PUT /files (staged in R2, every row checked)", "/files/up.xlsx", {
        method: "PUT",
        headers: { authorization: `Bearer ${TOKEN}`, "content-length": String(bytes.byteLength) },
        body: bytes,
      }),
  ],
  [
    "csv-full",
    async () => {
      const csv = csvOfRows();
      await bucket.put("big.csv", csv.buffer.slice(csv.byteOffset, csv.byteOffset + csv.byteLength) as ArrayBuffer);
      console.log(`   (the same ${rows} rows as a ${mb(csv.byteLength)} CSV)`);
      await data("/data full load of the CSV (comparison)", { table: "big", limit: 0 });
    },
  ],
];
let first = true;
for (const [name, run] of cases) {
  if (only.size > 0 && !only.has(name)) continue;
  if (!first) ({ mf, url, pid, bucket } = await fresh());
  first = false;
  if (name !== "csv-full")
    await bucket.put("big.xlsx", bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  await run();
  await mf.dispose();
}
