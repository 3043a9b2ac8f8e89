/**
 * When tables get compiled: right after an upload (small files, in the same
 * request: the upload already waited for every record to be checked), and by
 * the Cron Trigger for everything else (files put straight into R2, large
 * uploads, changed sidecars), within a time budget per run. Until a version is
 * compiled the streaming path serves it: nothing ever waits for compilation,
 * and a failed compilation only leaves the table on the streaming path.
 */
import { listTables } from "../catalog/catalog";
import type { Config, Env } from "../config/config";
import type { TableEntry } from "../model";
import { compileTable, isCompiled, type CompileResult } from "./compile";

/** Uploads up to this size are compiled before the upload's answer; larger ones by the next cron run. */
export const COMPILE_ON_UPLOAD_BYTES = 16 * 1024 * 1024;
/** A cron run starts no compilation after this much of its time went (its own limit is 15 minutes of wall time). */
export const CRON_BUDGET_MS = 60_000;

export async function compileAfterUpload(env: Env, config: Config, entry: TableEntry, size: number): Promise<void> {
  if (size > COMPILE_ON_UPLOAD_BYTES) return;
  try {
    await compileTable(env, config, entry);
  } catch (err) {
    console.error(`compiling ${entry.code} after its upload failed (the cron run retries): ${(err as Error).message}`);
  }
}

/** Compiles every R2 table whose live version has no compiled form yet, oldest budget first; returns what was done. */
export async function compileChanged(env: Env, config: Config, budgetMs = CRON_BUDGET_MS): Promise<{ code: string; result: CompileResult | { status: "failed"; reason: string } }[]> {
  const deadline = Date.now() + budgetMs;
  const done: { code: string; result: CompileResult | { status: "failed"; reason: string } }[] = [];
  for (const entry of await listTables(env, config)) {
    if (entry.source.kind !== "r2" || Date.now() > deadline) continue;
    const live = await env.DATA.head(entry.source.key);
    if (!live || (await isCompiled(env.DATA, entry.source.key, live.etag))) continue;
    try {
      done.push({ code: entry.code, result: await compileTable(env, config, entry, { deadline }) });
    } catch (err) {
      done.push({ code: entry.code, result: { status: "failed", reason: (err as Error).message } });
    }
  }
  return done;
}
