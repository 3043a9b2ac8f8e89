/**
 * POST /app (the local application's handler path) and the install page
 * (POST /install without an event): what the portal's frame opens, with
 * AUTH_ID, DOMAIN, member_id, LANG, … in a form nobody signed (PROTOCOL §6).
 *
 * Before anything is shown, AUTH_ID is verified with PORTAL_URL (app.info
 * names BITRIX_CLIENT_ID, user.admin is true: auth/portal.ts). Every answer
 * is an HTML page, never raw JSON: a refusal says nothing about the data, a
 * missing setting is named with how to set it (names only, never values).
 *
 * The first install (app.info's INSTALLED is false) registers the connector,
 * the source and the datasets once and tells the page to call
 * BX24.installFinish() when the connector and the source were registered (a
 * table that failed is reported; the page offers its dataset later); until
 * then the next open tries again. Later opens only read the portal's state.
 */
import * as z from "zod";
import { portalRefused, verifyPortalToken } from "../../auth/portal";
import { issueSession } from "../../auth/session";
import { readConfig, type Config, type Env } from "../../config/config";
import { toAppError } from "../../errors";
import { explain } from "../../register/register";
import type { Boot } from "./boot";
import { validate } from "../../request/schemas";
import { escapeHtml, htmlResponse, jsonForHtml, messagePage, page } from "./html";
import { langOf, say, type Lang } from "./messages";
import { runRegistration } from "./registration";

const field = z.string().max(4096).optional();
const FrameForm = z.looseObject({ AUTH_ID: field, DOMAIN: field, member_id: field, LANG: field, PROTOCOL: field, APP_SID: field, PLACEMENT: field });

/** The settings the app cannot work without, by variable name. */
export function missingSettings(config: Config): string[] {
  return [...config.portalMissing, ...(config.workerUrl ? [] : ["WORKER_URL"]), ...(config.tokens.length ? [] : ["CONNECTOR_TOKEN"])];
}

function configPage(lang: Lang, missing: string[], config: Config | null): Response {
  const fixes = missing.map((m) => say(lang, `fix_${m}` as "fix_PORTAL_URL"));
  return htmlResponse(messagePage(lang, "configTitle", [say(lang, "configIntro"), say(lang, "configFix")], fixes), 503, config);
}

/** Any failure as a page: a refusal (403) tells nothing about the data; a setting to fix is named. */
export function errorPage(err: unknown, lang: Lang, config: Config | null): Response {
  const e = toAppError(err);
  switch (e.code) {
    case "PORTAL_AUTH_FAILED":
    case "SESSION_INVALID":
    case "SESSION_EXPIRED":
      return htmlResponse(messagePage(lang, "refusedTitle", [say(lang, "refused")]), 403, config);
    case "PORTAL_UNAVAILABLE":
      return htmlResponse(messagePage(lang, "unavailableTitle", [say(lang, "unavailable")]), 502, config);
    case "CONFIG_INVALID":
      // readConfig's messages name the variable and never its value.
      return htmlResponse(messagePage(lang, "configTitle", [say(lang, "fix_invalid", { message: e.message }), say(lang, "configFix")]), e.status, config);
    default:
      return htmlResponse(messagePage(lang, "errorTitle", [e.message]), e.status, config);
  }
}

function shell(boot: Boot): string {
  return page(
    boot.lang,
    say(boot.lang, "title"),
    `<div id="app"><p class="muted">${escapeHtml(say(boot.lang, "loading"))}</p></div>\n<script type="application/json" id="boot">${jsonForHtml(boot)}</script>`,
    { script: true },
  );
}

/** The frame's page for a form already decoded (`body`); `lang` is the fallback when it sends no LANG. */
export async function framePage(body: Record<string, unknown>, env: Env, fallbackLang: Lang): Promise<Response> {
  let lang = typeof body.LANG === "string" ? langOf(body.LANG) : fallbackLang;
  let config: Config | null = null;
  try {
    config = readConfig(env);
    const missing = missingSettings(config);
    if (missing.length) return configPage(lang, missing, config);
    const portal = config.portal!;
    const form = validate(FrameForm, body);
    lang = langOf(form.LANG ?? lang);
    const domain = (form.DOMAIN ?? "").trim().toLowerCase();
    if (domain !== "" && domain !== portal.host) throw portalRefused();
    const user = await verifyPortalToken(config, form.AUTH_ID, { requireAdmin: true });
    let install: Boot["install"];
    if (user.installed === false) {
      try {
        // A file that cannot be described is reported and skipped: the connector, the source and the
        // other datasets are what the installation needs; that table gets its dataset from the page later.
        const summary = await runRegistration(env, config, portal, user.accessToken, { skipInvalid: true });
        install = { lines: summary.lines, failed: summary.lines.some((l) => l.outcome === "failed" && l.table === undefined) };
      } catch (err) {
        install = { lines: [{ object: "portal", outcome: "failed", detail: explain(err) }], failed: true };
      }
    }
    const member = (form.member_id ?? "").slice(0, 128);
    const session = await issueSession(env, portal, user.accessToken, member);
    const boot: Boot = { lang, session: session.token, expires: session.expires, portal: portal.origin, member, ...(install ? { install } : {}) };
    return htmlResponse(shell(boot), 200, config);
  } catch (err) {
    return errorPage(err, lang, config);
  }
}

/** The browser's language, for pages answered before the form was read. */
export function acceptLang(request: Request): Lang {
  return langOf(request.headers.get("accept-language") ?? "");
}

/** GET /app: someone opened the address directly, outside the portal. */
export function outsidePortal(request: Request, env: Env): Response {
  let config: Config | null = null;
  try {
    config = readConfig(env);
  } catch {}
  const lang = acceptLang(request);
  return htmlResponse(messagePage(lang, "title", [say(lang, "openFromPortal")]), 200, config);
}
