/**
 * How every app response is sent: the security headers (a strict CSP whose
 * frame-ancestors is PORTAL_URL only, nosniff, no referrer, no caching of
 * pages), and HTML built from escaped text only.
 */
import { type Config, isLoopback } from "../../config/config";
import { APP_CSS_HASH, APP_JS_HASH } from "./assets";
import { type Lang, type MessageKey, say } from "./messages";

/**
 * The BX24 library the portal's frame loads, scheme-relative (the page's own
 * scheme), from the host every page of Bitrix24's docs names
 * (sdk/bx24-js-sdk/index.md). Its Russian docs moved it to api.bitrix24.tech
 * in 2026: the CSP allows both hosts, so a library that moves or redirects
 * there still runs.
 */
export const BX24_SCRIPT = "//api.bitrix24.com/api/v1/";
export const BX24_HOSTS = ["api.bitrix24.com", "api.bitrix24.tech"] as const;

/**
 * The portal on this machine (`npm run portal`) serves its own copy of the
 * library at PORTAL_URL/api/v1/, which a browser cannot get from
 * api.bitrix24.com; no real portal is on a loopback address, so a deployed
 * Worker always loads Bitrix24's library.
 */
export function localPortalOrigin(config: Config | null): string | null {
  const origin = config?.portal?.origin;
  return origin && isLoopback(new URL(origin).hostname) ? origin : null;
}

/** Where the page loads the BX24 library from. */
export function bx24Script(config: Config | null): string {
  const local = localPortalOrigin(config);
  return local ? `${local}/api/v1/` : BX24_SCRIPT;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a `<script type="application/json">` block: no `<`, `>`, `&` or line separators unescaped. */
export function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Scripts only from the Worker and the portal's BX24 library (its two hosts;
 * a loopback PORTAL_URL's own copy, see bx24Script), no inline
 * script or style, no plugins, calls only to the Worker, and only the
 * configured portal may frame the page. Without PORTAL_URL there is no portal
 * to name: API answers may then be framed by nobody, while the page that says
 * which settings are missing (text only: no data, no action to click) may be
 * framed by any page, so the portal's frame shows it instead of a blocked frame.
 */
export function securityHeaders(config: Config | null, unconfigured: "*" | "'none'" = "'none'"): Record<string, string> {
  const ancestors = config?.portal ? config.portal.origin : unconfigured;
  const local = localPortalOrigin(config);
  return {
    "content-security-policy": [
      "default-src 'none'",
      `script-src 'self' ${[...BX24_HOSTS, ...(local ? [local] : [])].join(" ")}`,
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "form-action 'none'",
      "base-uri 'none'",
      `frame-ancestors ${ancestors}`,
    ].join("; "),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
}

/** A response with the app's security headers added (pages, API answers and errors alike). */
export function withAppHeaders(response: Response, config: Config | null, unconfigured: "*" | "'none'" = "'none'"): Response {
  const out = new Response(response.body, response);
  for (const [k, v] of Object.entries(securityHeaders(config, unconfigured))) out.headers.set(k, v);
  if (!out.headers.has("cache-control")) out.headers.set("cache-control", "no-store");
  return out;
}

/** A whole page: `body` must already be escaped HTML; `script` is where the BX24 library comes from (bx24Script), for the app's page. */
export function page(lang: Lang, title: string, body: string, options: { script?: string } = {}): string {
  const scripts = options.script
    ? `<script src="${escapeHtml(options.script)}"></script>\n<script type="module" src="/app/app.js?v=${APP_JS_HASH}"></script>\n`
    : "";
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/app/app.css?v=${APP_CSS_HASH}">
${scripts}</head>
<body>
${body}
</body>
</html>
`;
}

export function htmlResponse(html: string, status: number, config: Config | null): Response {
  return withAppHeaders(new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8" } }), config, "*");
}

/** A page with a title and paragraphs of text (escaped here): refusals, errors, settings to fix. */
export function messagePage(lang: Lang, titleKey: MessageKey, paragraphs: string[], list: string[] = []): string {
  const items = list.length ? `<ul>${list.map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>` : "";
  const [first, ...rest] = paragraphs;
  const body = `<main class="message"><h1>${escapeHtml(say(lang, titleKey))}</h1>${first !== undefined ? `<p>${escapeHtml(first)}</p>` : ""}${items}${rest.map((p) => `<p>${escapeHtml(p)}</p>`).join("")}</main>`;
  return page(lang, say(lang, "title"), body);
}
