// The Parquet side of the compiled-form decision (docs/design/compiled-tables.md):
// hyparquet-writer 0.17.0 / hyparquet 1.33.0 on bench.csv, in Node, CPU by process.cpuUsage.
// Not a dependency: run it from a folder where they are installed, e.g.
//   mkdir /tmp/pq && cd /tmp/pq && npm init -y && npm install --save-exact hyparquet@1.33.0 hyparquet-writer@0.17.0 papaparse@5.7.1
//   node /path/to/bench/parquet-spike.mjs /path/to/bench.csv
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(`${process.cwd()}/package.json`);
const Papa = require("papaparse");
const { parquetWriteBuffer } = await import(require.resolve("hyparquet-writer"));
const { parquetRead, parquetQuery, parquetMetadata } = await import(require.resolve("hyparquet"));

const file = process.argv[2];
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const rows = Papa.parse(readFileSync(file, "utf8"), { skipEmptyLines: true }).data;
const header = rows.shift();
const TYPES = ["INT32", "STRING", "STRING", "STRING", "STRING", "STRING", "INT32", "DOUBLE", "DOUBLE", "STRING", "STRING", "INT32"];
const iso = (d) => (d === "" ? null : `${d.slice(6)}-${d.slice(3, 5)}-${d.slice(0, 2)}`);
const columnData = header.map((name, i) => ({
  name,
  type: TYPES[i],
  data: rows.map((r) => (r[i] === "" ? null : TYPES[i] === "STRING" ? (i === 1 ? iso(r[i]) : r[i]) : Number(r[i]))),
}));
const c0 = cpu();
const buf = parquetWriteBuffer({ columnData, rowGroupSize: 16384 });
const writeMs = cpu() - c0;
console.log(JSON.stringify({ step: "write", cpuMs: Math.round(writeMs), bytes: buf.byteLength, csvBytes: readFileSync(file).byteLength }));

let bytesRead = 0;
const asyncBuffer = {
  byteLength: buf.byteLength,
  slice: (s, e) => {
    bytesRead += (e ?? buf.byteLength) - s;
    return buf.slice(s, e);
  },
};
const enc = new TextEncoder();
/** Rows → urlData JSON bytes, as the Worker would send them. */
function answer(data) {
  let out = 0;
  let s = "";
  for (const r of data) {
    s += `,${JSON.stringify(r)}`;
    if (s.length > 65536) {
      out += enc.encode(s).byteLength;
      s = "";
    }
  }
  return out + enc.encode(s).byteLength;
}
const run = async (name, fn) => {
  for (let k = 0; k < 2; k++) {
    bytesRead = 0;
    const c = cpu();
    const t = performance.now();
    const out = await fn();
    console.log(
      JSON.stringify({ step: name, cpuMs: Math.round(cpu() - c), wallMs: Math.round(performance.now() - t), outBytes: out, bytesRead }),
    );
  }
};
const metadata = parquetMetadata(buf);
await run(
  "full",
  () => new Promise((resolve) => parquetRead({ file: asyncBuffer, metadata, onComplete: (data) => resolve(answer(data)) })),
);
await run("range", async () =>
  answer(
    (
      await parquetQuery({
        file: asyncBuffer,
        metadata,
        columns: ["id", "amount", "region", "order_date"],
        filter: { order_date: { $gte: "2024-03-01", $lte: "2024-03-31" }, region: { $in: ["Kazan", "Omsk"] } },
      })
    ).map((r) => [r.id, r.amount, r.region]),
  ),
);
await run(
  "preview",
  () =>
    new Promise((resolve) =>
      parquetRead({ file: asyncBuffer, metadata, rowStart: 0, rowEnd: 20, onComplete: (data) => resolve(answer(data)) }),
    ),
);
