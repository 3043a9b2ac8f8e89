/**
 * POST /install: the local application's install handler. The portal posts
 * either the ONAPPINSTALL event (`auth[access_token]`, `auth[domain]`) or the
 * install page form (`AUTH_ID`, `DOMAIN`); the same registration as
 * `npm run setup` then runs with that token. Only the portal configured in
 * PORTAL_URL is accepted, and REST calls go to PORTAL_URL, never to an address
 * taken from the request.
 */
import { findTable, listTables } from "../catalog/catalog";
import { describe, describedColumns } from "../catalog/describe";
import type { Config, Env } from "../config";
import { parsePhpForm } from "../decode/php-form";
import { AppError } from "../http/errors";
import { Portal } from "../register/portal";
import { DEFAULT_LOGO, explain, formatSummary, register, type WorkerApi } from "../register/register";

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

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export async function installResponse(request: Request, env: Env, config: Config): Promise<Response> {
  if (!env.PORTAL_URL) {
    throw new AppError("CONFIG_INVALID", 503, "Installing from the portal needs PORTAL_URL (the portal's address, e.g. https://example.bitrix24.com) in wrangler.toml [vars].");
  }
  if (config.tokens.length === 0) {
    throw new AppError("TOKEN_NOT_CONFIGURED", 503, "Set CONNECTOR_TOKEN (`wrangler secret put CONNECTOR_TOKEN`) before installing: the portal's source needs it.");
  }
  const portalUrl = new URL(env.PORTAL_URL);
  const url = new URL(request.url);
  const form = parsePhpForm(await request.text());
  const auth = (form.auth ?? {}) as Record<string, string>;
  const accessToken = auth.access_token ?? (form.AUTH_ID as string | undefined);
  const domain = (auth.domain ?? (form.DOMAIN as string | undefined) ?? url.searchParams.get("DOMAIN") ?? "").toLowerCase();
  if (domain !== portalUrl.host.toLowerCase()) {
    throw new AppError("TOKEN_INVALID", 403, `Install requests are accepted only from ${portalUrl.host} (PORTAL_URL); this one came for "${domain || "no domain"}".`);
  }
  if (!accessToken) throw new AppError("REQUEST_INVALID", 400, "The install request carries no access token (auth[access_token] or AUTH_ID).");

  const portal = new Portal({ auth: { kind: "oauth", portal: portalUrl.origin, accessToken } });
  let text: string;
  let failed: boolean;
  try {
    const summary = await register(portal, inProcessWorker(env, config), {
      workerUrl: url.origin,
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
  if (form.event) return Response.json({ ok: !failed, summary: text }, { status: failed ? 502 : 200 });
  // The install page: show the result and tell the portal the installation is finished.
  const html = `<!doctype html><meta charset="utf-8"><title>Files connector</title>
<script src="//api.bitrix24.com/api/v1/"></script>
<h1>Files connector ${failed ? "could not be fully installed" : "installed"}</h1><pre>${escapeHtml(text)}</pre>
${failed ? "" : "<script>BX24.init(function () { BX24.installFinish(); });</script>"}`;
  return new Response(html, { status: failed ? 502 : 200, headers: { "content-type": "text/html; charset=utf-8" } });
}
