/**
 * POST /app (the local application's handler path) and the install page
 * (POST /install without an event): what the portal's frame opens, a form
 * nobody signed (PROTOCOL §6). DOMAIN, PROTOCOL, LANG and APP_SID come in the
 * URL's query string (older portals put them in the body: the query wins);
 * AUTH_ID, member_id, APPLICATION_TOKEN, … come in the body. The page speaks
 * the portal's LANG, whatever the browser's language.
 *
 * Before anything is shown, AUTH_ID is verified with PORTAL_URL (app.info
 * names BITRIX_CLIENT_ID, user.admin is true: auth/portal-token.ts). Every answer
 * is an HTML page, never raw JSON: a refusal says nothing about the data, a
 * missing setting is named with how to set it (names only, never values).
 *
 * The first install (app.info's INSTALLED is false) records the frame's
 * APPLICATION_TOKEN (auth/installation.ts: the install event of the same
 * installation must carry it), registers the connector, the source and the
 * datasets once and lets the page offer "Finish installation"
 * (BX24.installFinish(), which reloads the frame) when the connector and the
 * source were registered (a table that failed is reported; the page offers
 * its dataset later); until then the next open tries again. Later opens only
 * read the portal's state.
 */
import * as z from "zod";
import { recordApplicationToken } from "../../auth/installation";
import { portalRefused, verifyPortalToken } from "../../auth/portal-token";
import { issueSession } from "../../auth/session";
import { type Config, configOf, type Env, type RequestConfig } from "../../config/config";
import { toAppError } from "../../errors";
import { FORMATS } from "../../formats/registry";
import { explain } from "../../register/register";
import { validate } from "../../request/schemas";
import type { Boot } from "./boot";
import { bx24Script, escapeHtml, htmlResponse, jsonForHtml, messagePage, page } from "./html";
import { type Lang, langOf, say } from "./messages";
import { runRegistration } from "./registration";

const field = z.string().max(4096).optional();
const FrameForm = z.looseObject({
  AUTH_ID: field,
  DOMAIN: field,
  member_id: field,
  LANG: field,
  PROTOCOL: field,
  APP_SID: field,
  PLACEMENT: field,
  APPLICATION_TOKEN: field,
});

/** The frame values a portal puts into the handler URL's query string (simple-way.md, widget_data.md). */
const QUERY_FIELDS = ["DOMAIN", "PROTOCOL", "LANG", "APP_SID"] as const;

/**
 * The frame's values: the four query-string ones from the URL, else from the
 * body (older portals); everything else only from the body (a token in a URL
 * would land in logs and histories).
 */
export function frameFields(query: URLSearchParams, body: Record<string, unknown>): Record<string, unknown> {
  const fields = { ...body };
  for (const name of QUERY_FIELDS) {
    const value = query.get(name);
    if (value !== null) fields[name] = value;
  }
  return fields;
}

/** What the page's file picker offers: the formats the upload reads, by extension. */
const UPLOAD_ACCEPT = [...FORMATS.extensions.map((e) => `.${e}`), ".gz"].join(",");

/** An application token as portals send it (32 hex digits in the docs); anything else is not recorded. */
const APPLICATION_TOKEN_RE = /^[A-Za-z0-9_.-]{16,128}$/;

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
      // A configuration error's message names the variable and never its value.
      return htmlResponse(
        messagePage(lang, "configTitle", [say(lang, "fix_invalid", { message: e.message }), say(lang, "configFix")]),
        e.status,
        config,
      );
    default:
      return htmlResponse(messagePage(lang, "errorTitle", [e.message]), e.status, config);
  }
}

function shell(boot: Boot, config: Config): string {
  return page(
    boot.lang,
    say(boot.lang, "title"),
    `<div id="app"><p class="muted">${escapeHtml(say(boot.lang, "loading"))}</p></div>\n<script type="application/json" id="boot">${jsonForHtml(boot)}</script>`,
    { script: bx24Script(config) },
  );
}

/** The frame's page for the request's query string and its form, already decoded (`body`). */
export async function framePage(request: Request, body: Record<string, unknown>, env: Env, read: RequestConfig): Promise<Response> {
  const fields = frameFields(new URL(request.url).searchParams, body);
  let lang = typeof fields.LANG === "string" ? langOf(fields.LANG) : requestLang(request);
  let config: Config | null = null;
  try {
    config = configOf(read);
    const missing = missingSettings(config);
    if (missing.length) return configPage(lang, missing, config);
    const portal = config.portal!;
    const form = validate(FrameForm, fields);
    lang = langOf(form.LANG ?? lang);
    const domain = (form.DOMAIN ?? "").trim().toLowerCase();
    if (domain !== "" && domain !== portal.host) throw portalRefused();
    const user = await verifyPortalToken(config, form.AUTH_ID, { requireAdmin: true });
    const member = (form.member_id ?? "").slice(0, 128);
    let install: Boot["install"];
    if (user.installed === false) {
      // Verified, and the first install: this installation's token (newer portals send it in the frame).
      const token = form.APPLICATION_TOKEN;
      if (token !== undefined && APPLICATION_TOKEN_RE.test(token)) await recordApplicationToken(env.DATA, token, member || undefined);
      try {
        // A file that cannot be described is reported and skipped: the connector, the source and the
        // other datasets are what the installation needs; that table gets its dataset from the page later.
        const summary = await runRegistration(env, config, portal, user.accessToken, { skipInvalid: true });
        install = { lines: summary.lines, failed: summary.lines.some((l) => l.outcome === "failed" && l.table === undefined) };
      } catch (err) {
        install = { lines: [{ object: "portal", outcome: "failed", detail: explain(err) }], failed: true };
      }
    }
    const session = await issueSession(env, portal, user.accessToken, member);
    const boot: Boot = {
      lang,
      session: session.token,
      expires: session.expires,
      portal: portal.origin,
      member,
      accept: UPLOAD_ACCEPT,
      ...(install ? { install } : {}),
    };
    return htmlResponse(shell(boot, config), 200, config);
  } catch (err) {
    return errorPage(err, lang, config);
  }
}

/** The portal's LANG from the URL, else the browser's language: for pages answered before the body was read. */
export function requestLang(request: Request): Lang {
  const lang = new URL(request.url).searchParams.get("LANG");
  return langOf(lang ?? request.headers.get("accept-language") ?? "");
}

/** GET /app: someone opened the address directly, outside the portal. */
export function outsidePortal(request: Request, config: RequestConfig): Response {
  const lang = requestLang(request);
  return htmlResponse(messagePage(lang, "title", [say(lang, "openFromPortal")]), 200, config.config);
}
