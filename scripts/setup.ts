#!/usr/bin/env -S npx tsx
/**
 * npm run setup -- --portal https://example.bitrix24.com --access-token … \
 *   --worker-url https://connector.example.workers.dev --token …
 *
 * Registers the connector, a source and one dataset per table through the
 * portal's REST API. Every option can also come from the environment or a
 * .env file (see README, "Connecting a portal").
 */
import "./check-node.mjs"; // first: a clear message on a too old Node
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_LOGO, explain, formatSummary, register } from "../src/register/register";
import { Portal, type PortalAuth } from "../src/register/rest-client";
import { httpWorker, WorkerUnreachableError } from "../src/register/worker-http";
import { DATE_FORMAT_HELP, normaliseDateFormat } from "../src/values/types";
import { localWorker } from "./local-tables";

const OPTIONS = {
  portal: { type: "string", env: "BITRIX_PORTAL" },
  "access-token": { type: "string", env: "BITRIX_ACCESS_TOKEN" },
  "refresh-token": { type: "string", env: "BITRIX_REFRESH_TOKEN" },
  "client-id": { type: "string", env: "BITRIX_CLIENT_ID" },
  "client-secret": { type: "string", env: "BITRIX_CLIENT_SECRET" },
  "oauth-server": { type: "string", env: "BITRIX_OAUTH_SERVER" },
  webhook: { type: "string", env: "BITRIX_WEBHOOK" },
  "worker-url": { type: "string", env: "WORKER_URL" },
  token: { type: "string", env: "CONNECTOR_TOKEN" },
  tables: { type: "string", env: "TABLES" },
  prefix: { type: "string", env: "DATASET_PREFIX" },
  title: { type: "string", env: "CONNECTOR_TITLE" },
  logo: { type: "string", env: "CONNECTOR_LOGO" },
  "date-format": { type: "string", env: "DATE_FORMAT" },
  "data-dir": { type: "string", env: "DATA_DIR" },
  "dry-run": { type: "boolean" },
  prune: { type: "boolean" },
  help: { type: "boolean" },
} as const;
const SECRET = new Set(["access-token", "refresh-token", "client-secret", "token", "webhook"]);

function usage(): string {
  return `Usage: npm run setup -- --portal URL --access-token T --worker-url URL --token T [options]
  --refresh-token T --client-id ID --client-secret S   refresh an expired access token
  --webhook URL              on-premise portals that allow biconnector.* through a webhook
  --tables a,b               only these tables (default: every table the Worker lists)
  --prefix p_                prefix for dataset names (to avoid name collisions)
  --title T                  connector and source title (default "Files (R2 + URLs)")
  --logo URL|data:…          connector logo (default: a bundled SVG)
  --date-format F            the portal's date format: DD.MM.YYYY (default), MM/DD/YYYY, DD/MM/YYYY or YYYY-MM-DD
  --dry-run                  print the plan, change nothing (from the local files in --data-dir when the Worker is not reachable)
  --data-dir DIR             the files a dry run describes when it cannot reach the Worker (default sample-data)
  --prune                    remove dataset fields and datasets that no longer exist
Every option may also be set in the environment or .env (BITRIX_PORTAL, BITRIX_ACCESS_TOKEN, WORKER_URL, CONNECTOR_TOKEN, …).`;
}

const mask = (v: string) => (v.length <= 4 ? "****" : `${v.slice(0, 2)}…${v.slice(-2)}`);

async function main(): Promise<number> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  let values;
  try {
    ({ values } = parseArgs({ options: Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, { type: o.type }])), strict: true }));
  } catch (err) {
    console.error(`error: ${(err as Error).message}\n\n${usage()}`);
    return 2;
  }
  const v = values as Record<string, string | boolean | undefined>;
  if (v.help) return (console.log(usage()), 0);
  const get = (k: keyof typeof OPTIONS) =>
    (v[k] as string | undefined) ?? ("env" in OPTIONS[k] ? process.env[(OPTIONS[k] as { env: string }).env] : undefined);

  const problems: string[] = [];
  const workerUrl = get("worker-url");
  const token = get("token");
  const portalUrl = get("portal");
  const webhook = get("webhook");
  const accessToken = get("access-token");
  const givenFormat = normaliseDateFormat(get("date-format"));
  const dateFormat = givenFormat ?? "DD.MM.YYYY";
  if (!workerUrl) problems.push("--worker-url is required (the deployed Worker's https address)");
  if (!token) problems.push("--token is required (the Worker's CONNECTOR_TOKEN)");
  if (!webhook && !(portalUrl && accessToken))
    problems.push("give --portal and --access-token (a local application's OAuth token), or --webhook");
  if (givenFormat === null) problems.push(`--date-format must be one of ${DATE_FORMAT_HELP}`);
  if (problems.length) {
    console.error(`${problems.map((p) => `error: ${p}`).join("\n")}\n\n${usage()}`);
    return 2;
  }

  const auth: PortalAuth = webhook
    ? { kind: "webhook", url: webhook }
    : {
        kind: "oauth",
        portal: portalUrl!,
        accessToken: accessToken!,
        refreshToken: get("refresh-token"),
        clientId: get("client-id"),
        clientSecret: get("client-secret"),
        oauthServer: get("oauth-server"),
      };
  const portal = new Portal({
    auth,
    onRefresh: () => console.log("note: the access token was refreshed; store the new tokens from your app settings for the next run."),
  });
  const opts = {
    workerUrl: workerUrl!,
    token: token!,
    title: get("title") ?? "Files (R2 + URLs)",
    logo: get("logo") ?? DEFAULT_LOGO,
    dateFormat,
    tables: get("tables")
      ?.split(",")
      .map((t) => t.trim())
      .filter(Boolean),
    prefix: get("prefix"),
    dryRun: Boolean(v["dry-run"]),
    prune: Boolean(v.prune),
  };
  if (opts.dryRun) {
    const shown = Object.keys(OPTIONS)
      .filter((k) => get(k as keyof typeof OPTIONS) !== undefined)
      .map((k) => `  --${k} ${SECRET.has(k) ? mask(String(get(k as keyof typeof OPTIONS))) : String(get(k as keyof typeof OPTIONS))}`);
    console.log(`Dry run: nothing will be changed.\n${shown.join("\n")}\n`);
  }
  try {
    let worker = httpWorker(opts.workerUrl, opts.token);
    if (opts.dryRun) {
      try {
        await worker.tables();
      } catch (err) {
        if (!(err instanceof WorkerUnreachableError)) throw err;
        const dir = get("data-dir") ?? "sample-data";
        console.log(
          `note: ${err.message}.\nThe plan below describes the local files in ${dir}/ with the Worker's own code instead: the tables the Worker will serve once they are in its bucket.\n`,
        );
        worker = localWorker(dir);
      }
    }
    const summary = await register(portal, worker, opts);
    console.log(formatSummary(summary));
    return summary.failed ? 1 : 0;
  } catch (err) {
    console.error(`error: ${explain(err)}`);
    return 1;
  }
}

process.exitCode = await main();
