/**
 * The application inside the portal: its page (POST /app, what the portal's
 * frame opens; GET /app for someone who opened the address directly), the
 * page's script and style (built from app/ into assets.ts), and its API.
 */
import type { Env, RequestConfig } from "../../config/config";
import { readBodyText } from "../../request/body";
import { parsePhpForm } from "../../request/php-form";
import { APP_CSS, APP_JS } from "./assets";
import { errorPage, framePage, outsidePortal, requestLang } from "./frame";
import { withAppHeaders } from "./html";

export { appApi } from "./api";

export async function appPage(request: Request, env: Env, config: RequestConfig): Promise<Response> {
  if (request.method !== "POST") return outsidePortal(request, config);
  let body: Record<string, unknown>;
  try {
    body = parsePhpForm(await readBodyText(request));
  } catch (err) {
    return errorPage(err, requestLang(request), config.config);
  }
  return framePage(request, body, env, config);
}

/** GET /app/app.js and /app/app.css: versioned by their hash in the page's links, so they may be cached. */
export async function appAsset(request: Request): Promise<Response> {
  const js = new URL(request.url).pathname.endsWith(".js");
  const response = new Response(js ? APP_JS : APP_CSS, {
    headers: { "content-type": js ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8", "cache-control": "public, max-age=3600" },
  });
  return withAppHeaders(response, null);
}
