// DuckDB's time and CPU for the bench's scenarios, in one Node process:
//   node bench/duckdb-node.mjs FILE full|range THREADS
// CPU is process.cpuUsage() around the query (all of DuckDB's threads).

import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const duck = createRequire(join(import.meta.dirname, "engines", "package.json"))("@duckdb/node-api");
const [file, scenario = "full", threads = "1"] = process.argv.slice(2);
const SQL_FILTER = `COALESCE(TRY_CAST(order_date AS DATE), CAST(TRY_STRPTIME(CAST(order_date AS VARCHAR), '%d.%m.%Y') AS DATE)) BETWEEN DATE '2024-03-01' AND DATE '2024-03-31' AND region IN ('Kazan', 'Omsk')`;
const src = file.endsWith(".csv") ? `read_csv('${file}')` : `read_json('${file}', format='newline_delimited')`;
const SQL = {
  full: `SELECT * FROM ${src}`,
  range: `SELECT id, amount, region FROM ${src} WHERE ${SQL_FILTER}`,
  dashboard: `SELECT * FROM ${src} WHERE ${SQL_FILTER.replace(/ AND region IN .*$/, "")}`,
};
const db = await duck.DuckDBInstance.create(":memory:");
const con = await db.connect();
await con.run(`SET threads = ${threads}`);
const out = join(tmpdir(), `duck-${process.pid}.json`);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await con.run(`COPY (${SQL[scenario]}) TO '${out}' (FORMAT json, ARRAY true)`);
const cpu = process.cpuUsage(cpu0);
rmSync(out, { force: true });
console.log(
  JSON.stringify({
    engine: `duckdb-${threads}`,
    scenario,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    wallMs: Math.round(performance.now() - t0),
  }),
);
