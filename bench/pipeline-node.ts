/**
 * The Worker's data path (decode → CSV parse → emit every column as JSON →
 * encode) over a file in plain Node, for measuring memory under a heap cap:
 * run with `node --max-old-space-size=48 --import tsx bench/pipeline-node.ts FILE`.
 * If anything were kept per row, a 1 GB file could not pass under the cap.
 */
import { createReadStream } from "node:fs";
import { csvRecords } from "../src/formats/csv/parse";
import { decodeText } from "../src/formats/decode";
import type { ColumnType } from "../src/model";
import { emitterFor } from "../src/values/convert";

const file = process.argv[2];
const TYPES: ColumnType[] = ["int", "date", "datetime", "string", "string", "string", "int", "double", "double", "string", "string", "int"];
const emit = TYPES.map((t) => emitterFor(t, { decimalComma: false, slashOrder: "mdy" }));

async function* bytes() {
  for await (const c of createReadStream(file, { highWaterMark: 64 * 1024 })) yield new Uint8Array(c as Buffer);
}

const encoder = new TextEncoder();
let rows = 0;
let out = 0;
let buf = "";
const t0 = performance.now();
for await (const batch of csvRecords(decodeText(bytes(), "utf-8"), { delimiter: ",", newline: "\n" })) {
  for (const row of batch) {
    if (rows++ === 0) continue; // header
    let json = "[";
    for (let k = 0; k < row.length; k++) json += (k ? "," : "") + emit[k](row[k]);
    buf += `,${json}]`;
    if (buf.length > 256 * 1024) {
      out += encoder.encode(buf).byteLength;
      buf = "";
    }
  }
}
console.log(JSON.stringify({ rows: rows - 1, outBytes: out + buf.length, ms: Math.round(performance.now() - t0) }));
