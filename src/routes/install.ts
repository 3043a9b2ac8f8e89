/**
 * POST /install: the local application's install handler. The portal posts
 * either the ONAPPINSTALL event (`auth[access_token]`, `auth[application_token]`)
 * or the install page form (`AUTH_ID`, `DOMAIN`). Nothing in either is signed,
 * so before anything is done or shown the token is verified with the portal
 * (auth/portal.ts: our application, an administrator), and an install event's
 * application token must match the one recorded at the first install. Only
 * then does the same registration as `npm run setup` run, with that token, on
 * PORTAL_URL, registering the connector URLs from WORKER_URL (never from the
 * request's Host).
 */
import * as z from "zod";
import { installer } from "../auth/installation";
import { portalClient, requirePortal } from "../auth/portal";
import { findTable, listTables } from "../catalog/catalog";
import { describeTable, describedColumns } from "../catalog/describe";
import type { Config, Env } from "../config/config";
import { AppError } from "../errors";
import { DEFAULT_LOGO, explain, formatSummary, register, type WorkerApi } from "../register/register";
import { endpoint } from "./endpoint";

function inProcessWorker(env: Env, config: Config): WorkerApi {
  return {
    tables: async () => (await listTables(env, config)).map((t) => ({ code: t.code, title: t.title })),
    describe: async (code) => {
      const { description, bytes } = await describeTable(env, config, await findTable(env, config, code), { prefixOnly: true });
      await bytes.return(undefined);
      return describedColumns(description).map((c) => ({ code: c.code, name: c.name, type: c.type }));
    },
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What installing needs besides the portal settings: the token the source gets, and the connector URLs' base. */
function installSettings(config: Config): { token: string; workerUrl: string } {
  requirePortal(config);
  if (config.tokens.length === 0) {
    throw new AppError("TOKEN_NOT_CONFIGURED", "Set CONNECTOR_TOKEN (`wrangler secret put CONNECTOR_TOKEN`) before installing: the portal's source needs it.");
  }
  if (!config.workerUrl) {
    throw new AppError("CONFIG_INVALID", "Installing needs WORKER_URL, the Worker's public address (e.g. https://bitrix24-bi-files-connector.<you>.workers.dev), in wrangler.toml [vars]: the connector's URLs are registered with it.");
  }
  return { token: config.tokens[0], workerUrl: config.workerUrl };
}

export const install = endpoint({
  body: "form",
  auth: installer,
  schema: z.unknown(),
  ready: (config) => void installSettings(config),
  handle: async (_form, { env, config, principal }) => {
    const { user, event } = principal;
    const { token, workerUrl } = installSettings(config);
    let text: string;
    let failed: boolean;
    try {
      const summary = await register(portalClient(user.portal, user.accessToken), inProcessWorker(env, config), {
        workerUrl,
        token,
        title: "Files (R2 + URLs)",
        logo: DEFAULT_LOGO,
        dateFormat: config.defaultDateFormat,
      });
      text = formatSummary(summary);
      failed = summary.failed;
    } catch (err) {
      text = `error: ${explain(err)}`;
      failed = true;
    }
    if (event) return Response.json({ ok: !failed, summary: text }, { status: failed ? 502 : 200 });
    // The install page: show the result and tell the portal the installation is finished.
    const html = `<!doctype html><meta charset="utf-8"><title>Files connector</title>
<script src="//api.bitrix24.com/api/v1/"></script>
<h1>Files connector ${failed ? "could not be fully installed" : "installed"}</h1><pre>${escapeHtml(text)}</pre>
${failed ? "" : "<script>BX24.init(function () { BX24.installFinish(); });</script>"}`;
    return new Response(html, { status: failed ? 502 : 200, headers: { "content-type": "text/html; charset=utf-8" } });
  },
});
