// `npm run portal`: the Worker as `npm start` runs it (local R2 seeded from
// sample-data/, wrangler dev, the local tokens) together with a Bitrix24
// portal on this machine (scripts/local-portal/: its REST methods, and the
// page that frames the app as a portal does), and the Worker configured for
// that portal with `--var` (PORTAL_URL, BITRIX_CLIENT_ID, WORKER_URL; no
// file is edited). Prints one address: open it in a browser, install, upload,
// sync, restore. PORT moves the Worker (default 8787), PORTAL_PORT the portal
// (default 8790); PERSIST_TO and INSPECTOR_PORT as for `npm start`.
import "./check-node.mjs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { DEFAULT_PORTAL_PORT, DEFAULT_WORKER_PORT, LOCAL_APP_CODE, type LocalSite, startLocalSite } from "./local-portal/site";

const root = join(import.meta.dirname, "..");
const workerPort = Number(process.env.PORT ?? DEFAULT_WORKER_PORT);
const portalPort = Number(process.env.PORTAL_PORT ?? DEFAULT_PORTAL_PORT);
const workerUrl = `http://127.0.0.1:${workerPort}`;

let site: LocalSite;
try {
  site = await startLocalSite({ port: portalPort, workerUrl });
} catch (err) {
  console.error(`The local portal cannot listen on 127.0.0.1:${portalPort} (${(err as Error).message}): set PORTAL_PORT to a free port.`);
  process.exit(1);
}

const dev = spawn(
  process.execPath,
  [
    join(root, "scripts", "dev.mjs"),
    "--var",
    `PORTAL_URL:${site.origin}`,
    "--var",
    `BITRIX_CLIENT_ID:${LOCAL_APP_CODE}`,
    "--var",
    `WORKER_URL:${workerUrl}`,
  ],
  { env: { ...process.env, PORT: String(workerPort) }, stdio: "inherit" },
);
let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  if (dev.exitCode === null) dev.kill("SIGTERM");
  await site.stop();
  process.exit(code);
}
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => void stop(0));
dev.on("exit", (code) => void (stopping || stop(code ?? 1)));

// The address is printed once the Worker answers: opened earlier, the portal's frame would show an error.
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${workerUrl}/`)).ok) break;
  } catch {}
  if (i === 600) {
    console.error(`The Worker did not answer on ${workerUrl} within 2 minutes.`);
    await stop(1);
  }
  await new Promise((r) => setTimeout(r, 200));
}
console.log(`
Local portal: ${site.origin}/
  Open it in a browser: the portal frames the app, and the first open is the installation.
  In Russian: ${site.origin}/?lang=ru
  The local application's code (BITRIX_CLIENT_ID): ${LOCAL_APP_CODE}
  The portal keeps its state in memory: each run is a new portal, to install again. Ctrl+C stops both.
`);
