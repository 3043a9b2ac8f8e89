/**
 * Compiled tables in plain Node (R2 in memory, bench/memory-r2.ts), for CPU
 * figures per request: compiles FILE once, then answers each scenario from
 * the compiled form (and, with --stream, from the streaming path too).
 *   node --import tsx bench/compiled-node.ts FILE [repeat]
 * Prints one JSON line per scenario: cpuMs, wallMs, outBytes, bytesRead from R2, sha256.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { compileTable } from "../src/compiled/compile";
import { compiledForm } from "../src/compiled/serve";
import { type Env, readConfig } from "../src/config/config";
import type { TableEntry } from "../src/model";
import { answerQuery } from "../src/query/answer";
import type { DataRequest } from "../src/request/schemas";
import { answerStream } from "../src/write/urldata";
import { MemoryR2 } from "./memory-r2";

export const REQUESTS: Record<string, Partial<DataRequest>> = {
  full: {},
  range: {
    select: ["ID", "AMOUNT", "REGION"],
    filter: { ">=ORDER_DATE": "01.03.2024", "<=ORDER_DATE": "31.03.2024", "=REGION": ["Kazan", "Omsk"] },
  },
  dashboard: { filter: { ">=ORDER_DATE": "01.03.2024", "<=ORDER_DATE": "31.03.2024" } },
  preview: { limit: 20 },
};

const [file, repeat = "3"] = process.argv.slice(2);
const r2 = new MemoryR2();
const env = { DATA: r2, CONNECTOR_TOKEN: "x", URL_TABLES: "[]", DEFAULT_DATE_FORMAT: "DD.MM.YYYY" } as unknown as Env;
const config = readConfig(env);
const key = basename(file);
const ext = key.split(".").pop()!;
const entry: TableEntry = { code: "bench", title: "bench", source: { kind: "r2", key, extension: ext, gzip: false } };
await r2.put(key, readFileSync(file));

const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
let c0 = cpu();
let t0 = performance.now();
const result = await compileTable(env, config, entry);
console.log(
  JSON.stringify({
    scenario: "compile",
    cpuMs: Math.round(cpu() - c0),
    wallMs: Math.round(performance.now() - t0),
    result,
    sourceBytes: readFileSync(file).byteLength,
  }),
);

for (const [scenario, params] of Object.entries(REQUESTS)) {
  for (let k = 0; k < Number(repeat); k++) {
    r2.bytesRead = 0;
    r2.gets = 0;
    c0 = cpu();
    t0 = performance.now();
    const answer = await answerQuery(
      { env, config, entry },
      { table: "bench", ...params, connection: { date_format: "DD.MM.YYYY" } } as DataRequest,
      { forms: [compiledForm] },
    );
    if (answer.form !== "compiled") throw new Error("not served compiled");
    const body = answerStream(answer.header, answer.rows, entry.code);
    const hash = createHash("sha256");
    let outBytes = 0;
    for await (const chunk of body) {
      hash.update(chunk);
      outBytes += chunk.byteLength;
    }
    console.log(
      JSON.stringify({
        scenario,
        cpuMs: Math.round(cpu() - c0),
        wallMs: Math.round(performance.now() - t0),
        outBytes,
        bytesRead: r2.bytesRead,
        gets: r2.gets,
        sha256: hash.digest("hex").slice(0, 16),
      }),
    );
  }
}
