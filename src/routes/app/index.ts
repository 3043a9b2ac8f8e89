/**
 * The application inside the portal: its page (POST /app, what the portal's
 * frame opens; GET /app for someone who opened the address directly), the
 * page's script and style (built from app/ into assets.ts), and its API.
 */
import { readConfig, type Config } from "../../config/config";
import { readBodyText } from "../../request/body";
import { parsePhpForm } from "../../request/php-form";
import type { RouteHandler } from "../endpoint";
import { APP_CSS, APP_JS } from "./assets";
import { errorPage, framePage, outsidePortal, requestLang } from "./frame";
import { withAppHeaders } from "./html";

export { appApi } from "./api";

export const appPage: RouteHandler = async (request, env) => {
  if (request.method !== "POST") return outsidePortal(request, env);
  let body: Record<string, unknown>;
  try {
    body = parsePhpForm(await readBodyText(request));
  } catch (err) {
    let config: Config | null = null;
    try {
      config = readConfig(env);
    } catch {}
    return errorPage(err, requestLang(request), config);
  }
  return framePage(request, body, env);
};

/** GET /app/app.js and /app/app.css: versioned by their hash in the page's links, so they may be cached. */
export const appAsset: RouteHandler = async (request) => {
  const js = new URL(request.url).pathname.endsWith(".js");
  const response = new Response(js ? APP_JS : APP_CSS, {
    headers: { "content-type": js ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8", "cache-control": "public, max-age=3600" },
  });
  return withAppHeaders(response, null);
};
