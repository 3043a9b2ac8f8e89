/**
 * npm run upload -- path/to/file.csv [--key sales/2025.csv] [--remote] [--check]
 *
 * Checks the file with the Worker's own parsing and inference code (every
 * record read), shows the table it will become, then puts it into the R2
 * bucket through wrangler (the local one of `npm start`, or --remote).
 * A `<file>.schema.json` next to the file is checked with it and uploaded too.
 */
import "./check-node.mjs"; // first: a clear message on a too old Node
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { describeStream } from "../src/catalog/describe";
import { AppError } from "../src/errors";
import type { Sidecar } from "../src/model";
import { inspectUpload, understood, understoodNotes } from "../src/query/inspect";
import { baseTableCode, SIDECAR_SUFFIX, tableKeyInfo, tableTitle } from "../src/rules/naming";
import { parseSidecar } from "../src/rules/sidecar";
import { gunzip } from "../src/source/open";
import { toStream } from "../src/streams/bytes";
import { checkKey } from "../src/uploads/key";
import { fileBytes, localFileAccess } from "./local-tables";
import { BUCKET_NAME } from "./wrangler-config.mjs";

const root = join(import.meta.dirname, "..");
const bucket = BUCKET_NAME;

function put(key: string, path: string, remote: boolean): void {
  const r = spawnSync(
    join(root, "node_modules", ".bin", "wrangler"),
    ["r2", "object", "put", `${bucket}/${key}`, "--file", path, remote ? "--remote" : "--local"],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  if (r.status !== 0) throw new Error(`wrangler could not upload ${key} (exit ${r.status})`);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { key: { type: "string" }, remote: { type: "boolean" }, check: { type: "boolean" }, help: { type: "boolean" } },
    allowPositionals: true,
  });
  if (values.help || positionals.length !== 1) {
    console.log("Usage: npm run upload -- path/to/file.csv [--key folder/name.csv] [--remote] [--check (only check, upload nothing)]");
    return values.help ? 0 : 2;
  }
  const path = positionals[0];
  if (!existsSync(path)) {
    console.error(`error: no file at ${path}`);
    return 2;
  }
  const { key, kind } = checkKey(encodeURIComponent(values.key ?? basename(path)));
  const remote = Boolean(values.remote);
  const where = remote ? `the remote bucket ${bucket}` : `the local bucket ${bucket} (npm start)`;
  if (kind === "sidecar") {
    parseSidecar(readFileSync(path, "utf8"), `in ${path}`);
    if (values.check) return (console.log(`Schema ${path} is valid.`), 0);
    put(key, path, remote);
    console.log(`Schema ${key} checked and uploaded to ${where}.`);
    return 0;
  }

  const localSidecar = `${path}${SIDECAR_SUFFIX}`;
  let declared: Sidecar | undefined;
  if (existsSync(localSidecar)) declared = parseSidecar(readFileSync(localSidecar, "utf8"), `in ${localSidecar}`);
  const info = tableKeyInfo(key)!;
  const entry = { code: baseTableCode(key), title: tableTitle(key), source: { kind: "r2" as const, key, ...info } };
  const raw = fileBytes(path);
  const described = await describeStream(entry, info.gzip ? gunzip(toStream(raw)) : raw, declared, info.gzip ? {} : localFileAccess(path));
  // The same whole pass as PUT /files: types from every value, the encoding over the whole file.
  const { description, inspection } = await inspectUpload(described.description, described.bytes, declared, described.access);
  const what = understood(description, inspection);

  console.log(`${path} → ${key}`);
  // The code another file may already hold is only known to the bucket: GET /files lists the codes in use.
  console.log(`table ${entry.code}, ${inspection.rows} row${inspection.rows === 1 ? "" : "s"}`);
  const how = {
    declared: "declared in the sidecar",
    bom: "by its BOM",
    ascii: "all ASCII, read as UTF-8",
    "utf-8": "valid UTF-8",
    detected: "detected",
    guessed: "guessed from little evidence",
  };
  if (what.encoding) {
    const e = what.encoding;
    console.log(`encoding ${e.name} (${how[e.how as keyof typeof how] ?? e.how}${e.alternative ? `; next best ${e.alternative}` : ""})`);
  }
  const dialect = what.dialect as { delimiter?: string; newline?: string } | undefined;
  if (dialect?.delimiter) console.log(`delimiter ${JSON.stringify(dialect.delimiter)}, line ends ${JSON.stringify(dialect.newline)}`);
  console.log(
    `header row ${what.headerRow ?? "none (JSON objects)"}${what.skippedRows.length ? `, skipped rows: ${JSON.stringify(what.skippedRows)}` : ""}`,
  );
  const width = Math.max(...what.columns.map((c) => c.code.length));
  for (const c of what.columns) {
    const example = c.example === null ? "(no values)" : `e.g. ${JSON.stringify(c.example)}`;
    console.log(`  ${c.code.padEnd(width)}  ${c.type.padEnd(8)}  ${c.name}  ${example}${c.misfits ? `  ${c.misfits} misfit(s)` : ""}`);
  }
  for (const note of understoodNotes(what, key)) console.log(`note: ${note}`);
  if (values.check) return (console.log("Check passed; nothing uploaded (--check)."), 0);
  put(key, path, remote);
  if (declared) put(`${key}${SIDECAR_SUFFIX}`, localSidecar, remote);
  console.log(`Uploaded to ${where}.${declared ? ` Its schema ${basename(localSidecar)} too.` : ""}`);
  // This command writes to R2 directly and never sees the columns the table had: the page (or setup) compares them.
  console.log(
    "The app page's Tables tab shows whether the portal's dataset still matches this file, and offers the sync (from a terminal: `npm run setup -- --dry-run`).",
  );
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(`error: ${err instanceof AppError ? `${err.message} (${err.code}); nothing was uploaded` : (err as Error).message}`);
  process.exitCode = 1;
}
