/**
 * The portal's browser side, as an application's frame sees it (PROTOCOL §6,
 * Bitrix24's settings/oauth/simple-way.md and widgets/_includes/widget_data.md):
 * the page that opens the app in its iframe (a form POSTed into the frame),
 * the BX24 library that talks to that page by postMessage, and the endpoints
 * that page calls (installFinish, refreshAuth). `serveBrowserSide` is the
 * one entry LocalPortal's server calls.
 *
 * Two generations of the frame form: the current one puts DOMAIN, PROTOCOL,
 * LANG and APP_SID in the query string of the form's action URL and adds
 * SERVER_ENDPOINT, APPLICATION_TOKEN and APPLICATION_SCOPE to the body; the
 * older one sends everything in the body.
 *
 * The install path is opened in the frame while app.info says INSTALLED:
 * false; BX24.installFinish() then reloads the frame into the handler path,
 * as the real library does (sdk/bx24-js-sdk/system-functions/bx24-install-finish.md).
 */
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LocalPortal } from "./portal";

/**
 * The BX24 library as the app's frame sees it: it asks the portal page (its
 * parent) for the auth by postMessage and takes answers from that page only.
 * A request carries no secret, so it may go to any origin.
 */
export const BX24_STUB = `(function () {
  var auth = null, seq = 0, waiting = {}, inited = false;
  window.addEventListener("message", function (e) {
    var m = e.data;
    if (e.source !== window.parent || !m || m.bx24 !== "auth") return;
    auth = m.auth;
    var cb = waiting[m.id];
    delete waiting[m.id];
    if (cb) cb(auth);
  });
  function ask(kind, cb) { var id = ++seq; waiting[id] = cb; parent.postMessage({ bx24: kind, id: id }, "*"); }
  window.BX24 = {
    init: function (cb) { if (inited) return cb(); ask("init", function () { inited = true; cb(); }); },
    installFinish: function () { parent.postMessage({ bx24: "installFinish" }, "*"); },
    getAuth: function () { return auth; },
    refreshAuth: function (cb) { ask("refreshAuth", cb); },
  };
})();`;

/** Which frame form the portal posts: "current" (query string + newer body fields) or "older" (all in the body). */
export type FrameGeneration = "current" | "older";

/** The local application `npm run portal` shows: what the portal's application form would have given it. */
export interface LocalApp {
  /** The local application's code (client_id): the Worker's BITRIX_CLIENT_ID. */
  code: string;
  /** The menu item's name. */
  name: string;
  /** Handler path and initial installation path (the Worker's /app and /install). */
  handler: string;
  install: string;
}

/** What `npm run portal` shows: a plausible app code, not a test's. */
export const LOCAL_APP_CODE = "local.6751a3c2e4b7f1.48291735";

interface BrowserState {
  /** This installation's application token (APPLICATION_TOKEN in the current frame form). */
  applicationToken: string;
  memberId: string;
  freshTokens: number;
  /** The app GET / shows (npm run portal), with the administrator's token and refresh token. */
  site?: LocalApp & { token: string; refresh: string };
}

const states = new WeakMap<LocalPortal, BrowserState>();
const hex = (bytes: number) => randomBytes(bytes).toString("hex");

function stateOf(portal: LocalPortal): BrowserState {
  let state = states.get(portal);
  if (!state) {
    state = { applicationToken: hex(16), memberId: "member-1", freshTokens: 0 };
    states.set(portal, state);
  }
  return state;
}

/** The application token this portal sends in the current frame form (what the Worker must record). */
export function applicationTokenOf(portal: LocalPortal): string {
  return stateOf(portal).applicationToken;
}

/**
 * Makes GET / the portal's page for `app` (npm run portal): an administrator
 * of this portal with a token of that app. The member_id and the application
 * token follow from the app's code, so every run is the same installation to
 * the Worker's bucket (which keeps the recorded application token).
 */
export function showLocalApp(portal: LocalPortal, app: LocalApp): void {
  const state = stateOf(portal);
  const token = hex(16);
  const derived = (label: string) => createHash("sha256").update(`${label}:${app.code}`).digest("hex").slice(0, 32);
  portal.validTokens.add(token);
  portal.tokenApps.set(token, { app: app.code, admin: true });
  state.memberId = derived("member_id");
  state.applicationToken = derived("application_token");
  state.site = { ...app, token, refresh: hex(16) };
}

const attr = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON inside an inline script: no `</script>` can close it. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

interface FrameOptions {
  handler: string;
  install?: string;
  token: string;
  refresh: string;
  lang: string;
  domain: string;
  origin: string;
  generation: FrameGeneration;
  height: number;
  title: string;
  menu?: string;
}

/** The form fields a portal posts into the frame, split into the action URL's query string and the body. */
export function frameForm(
  portal: LocalPortal,
  o: FrameOptions,
  appSid: string,
): { query: Record<string, string>; body: Record<string, string> } {
  const state = stateOf(portal);
  const context = { DOMAIN: o.domain, PROTOCOL: o.origin.startsWith("https:") ? "1" : "0", LANG: o.lang, APP_SID: appSid };
  const auth = { AUTH_ID: o.token, AUTH_EXPIRES: "3600", REFRESH_ID: o.refresh };
  const rest = { member_id: state.memberId, status: "L", PLACEMENT: "DEFAULT", PLACEMENT_OPTIONS: "{}" };
  if (o.generation === "older") return { query: {}, body: { ...context, ...auth, ...rest } };
  const newer = { SERVER_ENDPOINT: `${o.origin}/rest/`, APPLICATION_TOKEN: state.applicationToken, APPLICATION_SCOPE: "biconnector" };
  return { query: context, body: { ...auth, ...newer, ...rest } };
}

function portalPage(portal: LocalPortal, o: FrameOptions): string {
  const form = frameForm(portal, o, hex(16));
  const config = {
    handler: o.handler,
    install: o.install ?? o.handler,
    stage: portal.installed ? "app" : "install",
    query: form.query,
    body: form.body,
    auth: { access_token: o.token, refresh_token: o.refresh, expires_in: 3600, domain: o.domain, member_id: form.body.member_id },
  };
  const menu = o.menu ? `<nav><a class="active" href="/">${attr(o.menu)}</a></nav>` : "";
  return `<!doctype html><html lang="${attr(o.lang)}"><head><meta charset="utf-8"><title>${attr(o.title)}</title>
<style>body{margin:0;font:14px system-ui,sans-serif;background:#eef2f4;color:#333}header{height:48px;background:#2fc6f6;color:#fff;padding:0 20px;display:flex;align-items:center;font-size:16px}
.body{display:flex}nav{width:200px;padding:16px 8px}nav a{display:block;padding:8px 12px;border-radius:16px;color:#333;text-decoration:none}nav a.active{background:#fff}
main{flex:1;padding:16px}iframe{border:0;width:100%;height:${o.height}px;display:block;background:#fff;border-radius:8px}</style></head>
<body><header>${attr(o.title)}</header>
<div class="body">${menu}<main><iframe name="app" id="app"></iframe></main></div>
<script>
var cfg = ${scriptJson(config)};
var frame = document.getElementById("app");
var appOrigin = new URL(cfg.handler).origin;
var current = cfg.auth;
function openApp(url) {
  var q = new URLSearchParams(cfg.query).toString();
  var f = document.createElement("form");
  f.method = "POST";
  f.target = "app";
  f.action = q ? url + (url.indexOf("?") < 0 ? "?" : "&") + q : url;
  Object.keys(cfg.body).forEach(function (k) {
    var i = document.createElement("input");
    i.type = "hidden";
    i.name = k;
    i.value = k === "AUTH_ID" ? current.access_token : cfg.body[k];
    f.appendChild(i);
  });
  document.body.appendChild(f);
  f.submit();
  f.remove();
}
window.addEventListener("message", async function (e) {
  var m = e.data;
  if (e.origin !== appOrigin || e.source !== frame.contentWindow || !m || !m.bx24) return;
  if (m.bx24 === "init") e.source.postMessage({ bx24: "auth", id: m.id, auth: current }, appOrigin);
  if (m.bx24 === "installFinish") {
    await fetch("/_bx24/installFinish", { method: "POST" });
    // During the installation the library reloads the frame into the application; later it does nothing.
    if (cfg.stage === "install") { cfg.stage = "app"; openApp(cfg.handler); }
  }
  if (m.bx24 === "refreshAuth") {
    var r = await fetch("/_bx24/refresh?token=" + encodeURIComponent(current.access_token), { method: "POST" });
    current = await r.json();
    e.source.postMessage({ bx24: "auth", id: m.id, auth: current }, appOrigin);
  }
});
openApp(cfg.stage === "install" ? cfg.install : cfg.handler);
</script></body></html>`;
}

/**
 * GET /frame?app=<handler URL>&install=<install URL>&token=&lang=&domain=&frame=older&height=:
 * the tests' portal page (DOMAIN defaults to the portal's own host).
 */
function testFramePage(portal: LocalPortal, q: URLSearchParams, origin: string): string | null {
  // Only http(s) addresses: the page posts a form to them in its own frame, where a javascript: or data: one would run as the portal.
  const web = (v: string | null) => v === null || /^https?:\/\/[^/]/i.test(v);
  if (!web(q.get("app")) || !web(q.get("install")) || q.get("app") === null) return null;
  return portalPage(portal, {
    handler: q.get("app")!,
    install: q.get("install") ?? undefined,
    token: q.get("token") ?? "good-access",
    refresh: "good-refresh",
    lang: q.get("lang") ?? "en",
    domain: q.get("domain") ?? new URL(origin).host,
    origin,
    generation: q.get("frame") === "older" ? "older" : "current",
    height: Number(q.get("height") ?? 1000),
    title: "Bitrix24 (local portal) · Applications",
  });
}

/** GET /: the portal's page for the app shown by showLocalApp (npm run portal), in LANG=?lang (default en). */
function sitePage(portal: LocalPortal, q: URLSearchParams, origin: string): string | null {
  const site = stateOf(portal).site;
  if (!site) return null;
  const lang = q.get("lang") === "ru" ? "ru" : "en";
  return portalPage(portal, {
    handler: site.handler,
    install: site.install,
    token: site.token,
    refresh: site.refresh,
    lang,
    domain: new URL(origin).host,
    origin,
    generation: q.get("frame") === "older" ? "older" : "current",
    height: Number(q.get("height") ?? 900),
    title: lang === "ru" ? "Битрикс24 · локальный портал" : "Bitrix24 · local portal",
    menu: site.name,
  });
}

/**
 * The portal's browser-side paths: GET / (npm run portal's page), GET /frame
 * (the tests' page), /api/v1/ (the BX24 library), POST /_bx24/installFinish and
 * /_bx24/refresh (what the portal page does for the library). Answers and
 * returns true for one of them, false for any other path.
 */
export function serveBrowserSide(portal: LocalPortal, req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const origin = `http://${req.headers.host ?? new URL(portal.origin).host}`;
  const html = (body: string) => res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(body);
  const json = (body: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  switch (url.pathname) {
    case "/": {
      const page = sitePage(portal, url.searchParams, origin);
      if (page === null) return false;
      html(page);
      return true;
    }
    case "/frame": {
      const page = testFramePage(portal, url.searchParams, origin);
      if (page === null)
        res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("app and install must be http(s) addresses\n");
      else html(page);
      return true;
    }
    case "/api/v1/":
      res.writeHead(200, { "content-type": "text/javascript" }).end(BX24_STUB);
      return true;
    case "/_bx24/installFinish":
      portal.installFinishCalls++;
      portal.installed = true;
      json({ ok: true });
      return true;
    case "/_bx24/refresh": {
      // BX24.refreshAuth: a new access token for the same user of the same app.
      const state = stateOf(portal);
      const old = url.searchParams.get("token") ?? "";
      const fresh = `fresh-access-${++state.freshTokens}`;
      portal.validTokens.add(fresh);
      const who = portal.tokenApps.get(old);
      if (who) portal.tokenApps.set(fresh, who);
      json({
        access_token: fresh,
        refresh_token: state.site?.refresh ?? "good-refresh",
        expires_in: 3600,
        domain: new URL(origin).host,
        member_id: state.memberId,
      });
      return true;
    }
    default:
      return false;
  }
}
