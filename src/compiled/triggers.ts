/**
 * When tables get compiled: right after an upload (small files, in the same
 * request: the upload already waited for every record to be checked), and by
 * the Cron Trigger for everything else (files put straight into R2, large
 * uploads, changed sidecars), within a time budget per run. Until a version is
 * compiled the streaming path serves it: nothing ever waits for compilation,
 * and a failed compilation only leaves the table on the streaming path.
 *
 * A table is compiled again when what its reading is decided from changed
 * (compile.ts, readingInputs: the file, its sidecar, its manifest), not only
 * its file: a sidecar put, changed or deleted is followed by the next run.
 *
 * The cron tries each reading once: a failure, a compilation that did not fit
 * a whole run's budget, or one whose invocation died (the CPU limit: a file
 * too large) leaves an attempt marker (storage.ts, attemptKey) naming those
 * inputs, and the table stays on the streaming path until they change. Without it such a file
 * was compiled again, and lost, every ten minutes, and a run killed by the CPU
 * limit compiled nothing after it.
 */
import { listTables } from "../catalog/catalog";
import type { Config, Env } from "../config/config";
import { AppError } from "../errors";
import { logEvent } from "../log";
import type { TableEntry } from "../model";
import { type CompileResult, compiledMetadata, compileTable, isCompiled, madeFrom, readingInputs } from "./compile";
import { attemptKey, compiledFolder } from "./storage";

/** Uploads up to this size are compiled before the upload's answer; larger ones by the next cron run. */
export const COMPILE_ON_UPLOAD_BYTES = 16 * 1024 * 1024;
/** A cron run starts no compilation after this much of its time went (its own limit is 15 minutes of wall time). */
export const CRON_BUDGET_MS = 60_000;

export async function compileAfterUpload(env: Env, config: Config, entry: TableEntry, size: number): Promise<void> {
  if (size > COMPILE_ON_UPLOAD_BYTES) return;
  try {
    await compileTable(env, config, entry);
  } catch (err) {
    // The cron run retries; the message can quote the file, so the log keeps its code.
    logEvent(
      "compile",
      { table: entry.code, status: "failed", after: "upload", error: err instanceof AppError ? err.code : (err as Error).name },
      "error",
    );
  }
}

/** Compiles every R2 table whose live reading has no compiled form yet, oldest budget first; returns what was done. */
/** A compilation that threw: its reason (kept in the attempt marker) and its error code (for the log, which never quotes a file). */
export type CompileFailure = { status: "failed"; reason: string; error: string };

export async function compileChanged(
  env: Env,
  config: Config,
  budgetMs = CRON_BUDGET_MS,
): Promise<{ code: string; result: CompileResult | CompileFailure }[]> {
  const deadline = Date.now() + budgetMs;
  const done: { code: string; result: CompileResult | CompileFailure }[] = [];
  let first = true;
  for (const entry of await listTables(env, config)) {
    if (entry.source.kind !== "r2" || Date.now() > deadline) continue;
    const folder = compiledFolder(entry.source.key);
    const live = await env.DATA.head(entry.source.key);
    if (!live || folder === null) continue;
    const inputs = await readingInputs(env, config, entry, live.etag);
    if (await isCompiled(env.DATA, entry.source.key, live.etag, inputs)) continue;
    const marker = attemptKey(folder, live.etag);
    if (madeFrom(await env.DATA.head(marker), inputs)) continue; // tried: see above
    const hadWholeBudget = first;
    first = false;
    await env.DATA.put(marker, JSON.stringify({ started: new Date().toISOString() }), { customMetadata: compiledMetadata(inputs) });
    let result: CompileResult | CompileFailure;
    try {
      result = await compileTable(env, config, entry, { deadline });
    } catch (err) {
      result = { status: "failed", reason: (err as Error).message, error: err instanceof AppError ? err.code : (err as Error).name };
    }
    if (result.status === "failed")
      await env.DATA.put(marker, JSON.stringify({ failed: result.reason }), { customMetadata: compiledMetadata(inputs) });
    // Out of time after others took part of the run, or the source changed meanwhile: the next run tries again.
    else if (result.status === "skipped" && !(result.reason === "out of time" && hadWholeBudget)) await env.DATA.delete(marker);
    done.push({ code: entry.code, result });
  }
  return done;
}
