/**
 * Every answer path against clients that read nothing, read slowly or go
 * away (issue 20), in workerd, with workerd's RSS and CPU:
 *
 *   npx tsx bench/pull-memory.ts [--rows N] [--copies K] [--big-rows N] [--hold MS] [--rate BYTES_PER_S] [--only NAME]
 *
 * Defaults: 3,000 rows of a 1 KB column selected 400 times (1.2 GB answers),
 * a 48 MB table for the paths without a select, each client held 5 s. The
 * figures are in bench/PULL.md; test/setup/pull-memory.test.ts runs the same
 * cases with shorter holds and asserts the bounds docs/limits.md states.
 */
import { type Case, type ClientKind, describeOutcome, longRows, runClient, startWorkerd } from "./pull-harness";

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const ROWS = arg("rows", 3000);
const COPIES = arg("copies", 400);
const BIG_ROWS = arg("big-rows", 48_000);
const HOLD = arg("hold", 5000);
const RATE = arg("rate", 2 * 1024 * 1024);

export async function setupTables(w: Awaited<ReturnType<typeof startWorkerd>>, rows: number, bigRows: number): Promise<void> {
  const long = longRows(rows, 1024);
  const csv = `T\n${long.join("\n")}\n`;
  const big = `T\n${longRows(bigRows, 1024).join("\n")}\n`;
  await w.put("pull_comp.csv", csv);
  await w.put("pull_whole.csv", big);
  await w.cron(); // compiles the two above
  await w.put("pull_dup.csv", csv);
  await w.put("pull_text.json", JSON.stringify(long.map((T) => ({ T }))));
  await w.put("pull_bytes.csv", big);
}

export function cases(copies: number): Case[] {
  const select = Array(copies).fill("T");
  return [
    { name: "byte records (48 MB CSV, no select)", params: { table: "pull_bytes" } },
    { name: `text rows (JSON, select ×${copies})`, params: { table: "pull_text", select } },
    { name: `duplicate select (CSV, select ×${copies})`, params: { table: "pull_dup", select } },
    { name: `compiled groups (select ×${copies})`, params: { table: "pull_comp", select } },
    { name: "compiled whole table, piped (48 MB)", params: { table: "pull_whole" } },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const w = await startWorkerd();
  try {
    await setupTables(w, ROWS, BIG_ROWS);
    console.log(
      `workerd ${w.pid}; ${ROWS} rows × 1 KB, select ×${COPIES}; big table ${BIG_ROWS} rows; hold ${HOLD} ms; slow client ${(RATE / 1e6).toFixed(1)} MB/s`,
    );
    const only = process.argv.indexOf("--only") >= 0 ? process.argv[process.argv.indexOf("--only") + 1] : "";
    for (const c of cases(COPIES).filter((c) => c.name.includes(only))) {
      for (const client of ["none", "slow", "gone"] as ClientKind[])
        console.log(describeOutcome(await runClient(w, c, client, { holdMs: HOLD, rate: RATE })));
    }
  } finally {
    await w.mf.dispose();
  }
}
