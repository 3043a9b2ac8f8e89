#!/usr/bin/env node
// `npm run deploy`: from a fresh clone to a Worker the portal can install, in
// one command. It checks the wrangler login, creates the R2 bucket when it is
// missing, deploys, learns the Worker's address from wrangler's output, and
// sets the settings the Worker keeps as secrets (they outlive every later
// deploy, so no tracked file is edited): CONNECTOR_TOKEN and UPLOAD_TOKEN
// (strong random values when unset), WORKER_URL (the learned address), and
// PORTAL_URL / BITRIX_CLIENT_ID when given. Then it prints what to type into
// the portal's local-application form.
//
//   npm run deploy                                   deploy, set what is missing
//   npm run deploy -- --portal https://x.bitrix24.com --client-id local.…   also the portal settings
//   npm run deploy -- --set BITRIX_CLIENT_ID=local.…  only set settings, no deploy
//   npm run deploy -- --dry-run                      print every step, change nothing
//
// WRANGLER names the wrangler to run (default: the project's own).
import "./check-node.mjs";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BUCKET_NAME } from "./wrangler-config.mjs";

const root = join(import.meta.dirname, "..");
const WRANGLER = process.env.WRANGLER ?? join(root, "node_modules", ".bin", "wrangler");
/** The settings the Worker reads as secrets, and whether deploy may make one up. */
const SETTINGS = ["CONNECTOR_TOKEN", "UPLOAD_TOKEN", "WORKER_URL", "PORTAL_URL", "BITRIX_CLIENT_ID"];
const GENERATED = ["CONNECTOR_TOKEN", "UPLOAD_TOKEN"];

const USAGE = `Usage: npm run deploy -- [--portal URL] [--client-id ID] [--set NAME=value …] [--dry-run]
  --portal URL        the portal's address, e.g. https://example.bitrix24.com (PORTAL_URL)
  --client-id ID      the local application's client_id, once the portal showed it (BITRIX_CLIENT_ID)
  --set NAME=value    set one setting (${SETTINGS.join(", ")}) without deploying;
                      NAME=- reads the value from standard input (a token stays out of the shell's history)
  --url URL           the Worker's address, when it is served on your own domain rather than workers.dev
  --dry-run           print every step and change nothing`;

class Stop extends Error {}

function run(args, { input, quiet } = {}) {
  const r = spawnSync(WRANGLER, args, {
    cwd: root,
    input,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdio: [input === undefined ? "inherit" : "pipe", "pipe", "pipe"],
  });
  if (r.error) throw new Stop(`could not run wrangler (${WRANGLER}): ${r.error.message}. Run \`npm install\` first.`);
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  if (!quiet && r.status !== 0) process.stderr.write(out);
  return { ok: r.status === 0, out, stdout: r.stdout ?? "" };
}

/** A command that changes something: run, or only printed in a dry run. */
function change(dry, args, what, { input } = {}) {
  const shown = `wrangler ${args.join(" ")}${input !== undefined ? " (value on stdin)" : ""}`;
  if (dry) {
    console.log(`  would run: ${shown}   # ${what}`);
    return { ok: true, out: "" };
  }
  console.log(`  ${what}: ${shown}`);
  const r = run(args, { input });
  if (r.ok && input === undefined) process.stdout.write(r.out.replace(/^/gm, "    "));
  return r;
}

function loggedIn() {
  const { ok, out } = run(["whoami"], { quiet: true });
  if (!ok || /not authenticated|not logged in|wrangler login/i.test(out)) {
    throw new Stop("wrangler is not logged in to Cloudflare: run `npx wrangler login` (it opens a browser), then `npm run deploy` again.");
  }
  const account = /associated with the email ([^\s.]+@[^\s]+?)\.?\s/i.exec(out)?.[1];
  console.log(`Logged in to Cloudflare${account ? ` as ${account}` : ""}.`);
}

function ensureBucket(dry) {
  const { ok, out } = run(["r2", "bucket", "list"], { quiet: true });
  if (ok && new RegExp(`(^|\\s)${BUCKET_NAME}(\\s|$)`, "m").test(out)) return console.log(`R2 bucket "${BUCKET_NAME}": exists.`);
  if (!ok && /enable R2|10042/i.test(out)) throw new Stop(enableR2());
  const made = change(dry, ["r2", "bucket", "create", BUCKET_NAME], "creating the R2 bucket");
  if (!made.ok)
    throw new Stop(
      /enable R2|10042/i.test(made.out)
        ? enableR2()
        : `the R2 bucket "${BUCKET_NAME}" could not be created (see wrangler's message above).`,
    );
}

const enableR2 = () =>
  "R2 is not enabled on this Cloudflare account. Open the Cloudflare dashboard → R2 Object Storage → enable it (the free tier needs no payment for small data, but Cloudflare asks for a payment method once), then run `npm run deploy` again.";

/**
 * The names of the secrets the Worker has (empty before its first deploy), or
 * null when wrangler could not say: then nothing may be taken for unset, or a
 * token the portal's source and the upload CLI hold would be replaced. Only
 * wrangler's stdout is JSON (its warnings, on stderr, carry brackets too).
 */
function secretNames() {
  const { ok, stdout } = run(["secret", "list", "--format", "json"], { quiet: true });
  if (!ok) return null;
  try {
    const list = JSON.parse(stdout.slice(stdout.indexOf("["), stdout.lastIndexOf("]") + 1));
    return Array.isArray(list) ? new Set(list.map((s) => s.name)) : null;
  } catch {
    return null;
  }
}

function deploy(dry) {
  const deployed = change(dry, ["deploy"], "deploying the Worker");
  if (!deployed.ok) throw new Stop("wrangler deploy failed (see its message above).");
  return /https:\/\/[a-z0-9.-]+\.workers\.dev\b/i.exec(deployed.out)?.[0] ?? null;
}

function main(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        portal: { type: "string" },
        "client-id": { type: "string" },
        set: { type: "string", multiple: true },
        url: { type: "string" },
        "dry-run": { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (err) {
    throw new Stop(`${err.message}\n\n${USAGE}`);
  }
  if (values.help) return console.log(USAGE);
  const dry = Boolean(values["dry-run"]);
  const given = {};
  for (const pair of values.set ?? []) {
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq);
    // The value is never echoed: it may be a token.
    if (eq < 1 || !SETTINGS.includes(name))
      throw new Stop(`--set takes NAME=value with NAME one of ${SETTINGS.join(", ")} (got "${eq < 0 ? "a value without NAME=" : name}").`);
    const value = pair.slice(eq + 1);
    given[name] = value === "-" ? readFileSync(0, "utf8").trim() : value;
    if (given[name] === "") throw new Stop(`--set ${name}: the value is empty.`);
  }
  if (values.portal) given.PORTAL_URL = values.portal;
  if (values["client-id"]) given.BITRIX_CLIENT_ID = values["client-id"];
  if (values.url) given.WORKER_URL = values.url;
  for (const [name, value] of Object.entries(given)) {
    if ((name === "PORTAL_URL" || name === "WORKER_URL") && !/^https:\/\/[^/\s]+\/?$/.test(value))
      throw new Stop(`${name} must be an https:// address with no path, like https://example.bitrix24.com (got "${value}").`);
  }
  if (dry) console.log("Dry run: nothing will be changed.");

  loggedIn();
  const onlySet = (values.set ?? []).length > 0 && !values.portal && !values["client-id"] && !values.url;
  let url = given.WORKER_URL ?? null;
  if (!onlySet) {
    ensureBucket(dry);
    const learned = deploy(dry);
    url = url ?? learned;
    if (!url && !dry)
      throw new Stop(
        "wrangler printed no workers.dev address (is workers.dev switched off for this Worker?): give the Worker's address with --url https://….",
      );
  }
  const listed = secretNames();
  // Before the first deploy (a dry run) there is no Worker to list; after a deploy a failed list must not pass for "none set".
  if (listed === null && !onlySet && !dry)
    throw new Stop(
      "could not list the Worker's secrets (see `npx wrangler secret list`); nothing was set, so no existing token was replaced. Run `npm run deploy` again.",
    );
  const have = listed ?? new Set();
  const secrets = { ...given };
  /** The tokens this run made up (only those are announced; a value given with --set is never printed). */
  const madeUp = new Set();
  if (!onlySet) {
    if (url && !given.WORKER_URL && !have.has("WORKER_URL")) secrets.WORKER_URL = url;
    for (const name of GENERATED) {
      if (have.has(name) || name in secrets) continue;
      secrets[name] = randomBytes(32).toString("base64url");
      madeUp.add(name);
    }
  }
  for (const [name, value] of Object.entries(secrets)) {
    const r = change(dry, ["secret", "put", name], `setting ${name}`, { input: value });
    if (!r.ok) throw new Stop(`could not set ${name} (see wrangler's message above).`);
  }

  const shown = url ?? "https://<your worker>.workers.dev";
  // In a build system (Workers Builds, CI) the log is kept: a made-up token is set, never printed.
  const printable = !(process.env.CI || process.env.WORKERS_CI);
  console.log(`
Done${dry ? " (dry run)" : ""}. The Worker: ${shown}
${GENERATED.filter((n) => madeUp.has(n) && !dry)
  .map((n) =>
    printable
      ? `${n} was set to a new random value: ${secrets[n]}\n  (keep it: ${n === "CONNECTOR_TOKEN" ? "the app page registers it with the portal for you; the command line needs it" : "npm run upload needs it"}; it is not shown again)`
      : `${n} was set to a new random value (not printed here: set your own with --set ${n}=… if you need to know it)`,
  )
  .join("\n")}
In your portal: Developer resources → Other → Local application (Разработчикам → Другое → Локальное приложение):
  type:                     server-side, with a user interface ("Script only" unchecked)
  handler path:             ${shown}/app
  initial installation path: ${shown}/install
  permissions (scope):      biconnector
Save, then give the Worker the portal's address and the client_id it shows:
  npm run deploy -- --set PORTAL_URL=https://<your portal> --set BITRIX_CLIENT_ID=<client_id>
and open the application from the portal's menu as an administrator.`);
}

try {
  main(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof Stop)) throw err;
  console.error(`error: ${err.message}`);
  process.exitCode = 1;
}
