/**
 * The XLSX reader's own memory, without workerd's and local R2's: the same
 * code (src/formats/xlsx) in Node over the big workbook in memory, with the
 * heap (V8 heapUsed + ArrayBuffers) sampled every 20 ms while every record
 * is read. Complements bench/xlsx-memory.ts (workerd RSS). Run with
 * `node --expose-gc --import tsx bench/xlsx-heap-node.ts [rows]`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { xlsx } from "../src/formats/xlsx";
import type { Bytes } from "../src/model";

const rows = Number(process.argv[2] ?? 1_000_000);
const bytes: Uint8Array = readFileSync(join(import.meta.dirname, "..", "test", "fixtures", "exports", `big-${rows}.xlsx`));
const access = {
  size: bytes.length,
  read: async (o: number, l: number) => bytes.slice(o, o + l),
  stream: (o: number, l: number) =>
    (async function* (): Bytes {
      for (let at = o; at < o + l; at += 1 << 16) yield bytes.slice(at, Math.min(o + l, at + (1 << 16)));
    })(),
};
const gc = (globalThis as { gc?: () => void }).gc;
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
gc?.();
const base = used();
let peak = base;
const sampler = setInterval(() => (peak = Math.max(peak, used())), 20);
const cpu0 = process.cpuUsage();
const reader = await xlsx.detect({ sample: bytes.subarray(0, 1 << 20), complete: false, ...access }, { name: "xlsx" });
let n = 0;
for await (const batch of reader.records((async function* (): Bytes {})(), false, { access })) n += batch.length;
clearInterval(sampler);
const cpu = process.cpuUsage(cpu0);
gc?.();
const mb = (x: number) => `${Math.round(x / 1e6)} MB`;
console.log(
  `${n} records; CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; heap + ArrayBuffers above the workbook itself: peak +${mb(peak - base)}, after +${mb(used() - base)} (the workbook's own ${mb(bytes.length)} not counted)`,
);
