/**
 * POST /install: the local application's install path. The portal posts
 * either the ONAPPINSTALL event (`auth[access_token]`, `auth[application_token]`)
 * (only to apps that use only the API) or opens the install page in its
 * frame (an app with a page, like this one: `AUTH_ID`, `APPLICATION_TOKEN`
 * in the body, `DOMAIN`, `LANG` in the query string, …).
 * Nothing in either is signed, so before anything is done or shown the token
 * is verified with the portal (auth/portal-token.ts: our application, an
 * administrator), and an install event's application token must match the
 * one recorded at the first install.
 *
 * The event runs the same registration as `npm run setup`, with that token,
 * on PORTAL_URL, registering the connector URLs from WORKER_URL (never from
 * the request's Host), and is answered JSON (a server-to-server call). The
 * install page is the app page (routes/app/frame.ts): it registers only on
 * the first install, and answers HTML.
 */
import { installer } from "../auth/installation";
import { requirePortal } from "../auth/portal-token";
import { configOf, type Env, type RequestConfig } from "../config/config";
import { explain, formatSummary } from "../register/register";
import { readBodyText } from "../request/body";
import { parsePhpForm } from "../request/php-form";
import { framePage } from "./app/frame";
import { installSettings, runRegistration } from "./app/registration";

async function installEvent(request: Request, body: Record<string, unknown>, env: Env, read: RequestConfig): Promise<Response> {
  const config = configOf(read);
  requirePortal(config);
  installSettings(config);
  const { user } = await installer({ request, body, config, env });
  let text: string;
  let failed: boolean;
  try {
    const summary = await runRegistration(env, config, user.portal, user.accessToken);
    text = formatSummary(summary);
    failed = summary.failed;
  } catch (err) {
    text = `error: ${explain(err)}`;
    failed = true;
  }
  return Response.json({ ok: !failed, summary: text }, { status: failed ? 502 : 200 });
}

export async function install(request: Request, env: Env, config: RequestConfig): Promise<Response> {
  // A body too large or not a form is refused in JSON, not as a page: the portal never sends one.
  const body = parsePhpForm(await readBodyText(request));
  if (body.event !== undefined || body.auth !== undefined) return installEvent(request, body, env, config);
  return framePage(request, body, env, config);
}
