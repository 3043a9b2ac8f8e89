#!/usr/bin/env node
// `npm start`: seed the local R2 bucket from sample-data/ (idempotent: only
// files that changed since the last seed are written), then run the Worker
// with `wrangler dev` on http://127.0.0.1:8787 and the local token dev-token.
// PORT moves the connector, INSPECTOR_PORT the debugger (default 9229), so
// two `npm start` can run on one machine; PERSIST_TO keeps the local state
// (R2, Durable Objects) in another folder than .wrangler/state. Arguments
// go on to `wrangler dev` (npm run portal passes its --var settings so).
import "./check-node.mjs";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { BUCKET_NAME } from "./wrangler-config.mjs";

const root = join(import.meta.dirname, "..");
const BUCKET = BUCKET_NAME;
const TOKEN = process.env.CONNECTOR_TOKEN ?? "dev-token";
const UPLOAD_TOKEN = process.env.UPLOAD_TOKEN ?? "dev-upload-token";
const PORT = process.env.PORT ?? "8787";
const INSPECTOR_PORT = process.env.INSPECTOR_PORT;
const PERSIST_TO = process.env.PERSIST_TO;
const persistArgs = PERSIST_TO ? ["--persist-to", PERSIST_TO] : [];
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const wrangler = join(root, "node_modules", ".bin", "wrangler");

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

// The app page's script, in case app/ was edited (the generated module is committed, so a fresh clone has it).
if (spawnSync(process.execPath, [join(root, "scripts", "build-app.mjs")], { stdio: "inherit" }).status !== 0) process.exit(1);

const dataDir = join(root, "sample-data");
const stateDir = PERSIST_TO ?? join(root, ".wrangler", "state");
const stampPath = PERSIST_TO ? join(PERSIST_TO, "sample-data-seeded.json") : join(root, ".wrangler", "sample-data-seeded.json");
const stamp = existsSync(stampPath) ? JSON.parse(readFileSync(stampPath, "utf8")) : {};
const persisted = existsSync(join(stateDir, "v3", "r2"));
let seeded = 0;
for (const file of files(dataDir)) {
  const key = relative(dataDir, file).split(sep).join("/");
  const hash = createHash("sha256").update(readFileSync(file)).digest("hex");
  if (persisted && stamp[key] === hash) continue;
  const r = spawnSync(wrangler, ["r2", "object", "put", `${BUCKET}/${key}`, "--file", file, "--local", ...persistArgs], {
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (r.status !== 0) {
    console.error(`Could not seed ${key} into the local bucket (wrangler exit ${r.status}).`);
    process.exit(1);
  }
  stamp[key] = hash;
  seeded++;
}
mkdirSync(join(stampPath, ".."), { recursive: true });
writeFileSync(stampPath, JSON.stringify(stamp, null, 1));
console.log(`Local R2 bucket "${BUCKET}": ${seeded} file(s) seeded from sample-data/, ${Object.keys(stamp).length} in all.`);
console.log(`Connector: http://127.0.0.1:${PORT}  token: ${TOKEN}  upload token: ${UPLOAD_TOKEN}`);
console.log(`Try: curl -s -X POST http://127.0.0.1:${PORT}/table_list -d 'connection[token]=${TOKEN}'`);

const dev = spawn(
  wrangler,
  [
    "dev",
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    PORT,
    "--var",
    `CONNECTOR_TOKEN:${TOKEN}`,
    "--var",
    `UPLOAD_TOKEN:${UPLOAD_TOKEN}`,
    "--show-interactive-dev-session=false",
    ...(INSPECTOR_PORT ? ["--inspector-port", INSPECTOR_PORT] : []),
    ...persistArgs,
    ...process.argv.slice(2),
  ],
  { env, stdio: "inherit" },
);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => dev.kill(sig));
dev.on("exit", (code) => process.exit(code ?? 0));
