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
import { checkApplicationToken, recordApplicationToken } from "../auth/installation";
import { portalClient, portalRefused, requirePortal, verifyPortalToken } from "../auth/portal";
import { findTable, listTables } from "../catalog/catalog";
import { describe, describedColumns } from "../catalog/describe";
import type { Config, Env } from "../config/config";
import { readBodyText } from "../decode/body";
import { parsePhpForm } from "../decode/php-form";
import { AppError } from "../http/errors";
import { DEFAULT_LOGO, explain, formatSummary, register, type WorkerApi } from "../register/register";
import { validate } from "../validate/requests";

function inProcessWorker(env: Env, config: Config): WorkerApi {
  return {
    tables: async () => (await listTables(env, config)).map((t) => ({ code: t.code, title: t.title })),
    describe: async (code) => {
      const { description, bytes } = await describe(env, config, await findTable(env, config, code), { prefixOnly: true });
      await bytes.return(undefined);
      return describedColumns(description).map((c) => ({ code: c.code, name: c.name, type: c.type }));
    },
  };
}

const field = z.string().max(4096).optional();
const InstallRequest = z.looseObject({
  event: field,
  auth: z
    .looseObject({ access_token: field, application_token: field, domain: field, member_id: field })
    .optional(),
  AUTH_ID: field,
  DOMAIN: field,
  member_id: field,
});

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function installResponse(request: Request, env: Env, config: Config): Promise<Response> {
  const portal = requirePortal(config);
  if (config.tokens.length === 0) {
    throw new AppError("TOKEN_NOT_CONFIGURED", "Set CONNECTOR_TOKEN (`wrangler secret put CONNECTOR_TOKEN`) before installing: the portal's source needs it.");
  }
  if (!config.workerUrl) {
    throw new AppError("CONFIG_INVALID", "Installing needs WORKER_URL, the Worker's public address (e.g. https://bitrix24-bi-files-connector.<you>.workers.dev), in wrangler.toml [vars]: the connector's URLs are registered with it.");
  }
  const form = validate(InstallRequest, parsePhpForm(await readBodyText(request)));
  const event = form.event?.toUpperCase();
  if (event !== undefined && event !== "ONAPPINSTALL") throw portalRefused();
  const domain = (form.auth?.domain ?? form.DOMAIN ?? "").toLowerCase();
  // A request for another portal is refused without calling anything.
  if (domain !== "" && domain !== portal.host) throw portalRefused();

  if (event) await checkApplicationToken(env.DATA, form.auth?.application_token);
  const user = await verifyPortalToken(config, form.auth?.access_token ?? form.AUTH_ID, { requireAdmin: true });
  if (event) await recordApplicationToken(env.DATA, form.auth?.application_token, form.auth?.member_id ?? form.member_id);

  let text: string;
  let failed: boolean;
  try {
    const summary = await register(portalClient(portal, user.accessToken), inProcessWorker(env, config), {
      workerUrl: config.workerUrl,
      token: config.tokens[0],
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
}
