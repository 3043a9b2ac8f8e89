/**
 * Requests that come from the portal's application frame or install flow
 * carry an access token and nothing signed (PROTOCOL §6): anyone can post
 * such a form. So the token is verified with the portal itself before
 * anything is done or shown:
 *   1. REST `app.info` with that token, on PORTAL_URL only (never an address
 *      from the request), must name our application (BITRIX_CLIENT_ID): a
 *      token of any other app on the same portal is refused;
 *   2. `user.admin` with the same token must be true for admin actions.
 * Every refusal is the same generic 403: it names no table, file or column.
 */
import type { Config, PortalConfig } from "../config/config";
import { AppError } from "../errors";
import { Portal, PortalError } from "../register/rest-client";

/** A portal call may take this long before the request is refused (the portal's own limit is 60 s). */
const VERIFY_TIMEOUT_MS = 10_000;

export interface PortalUser {
  /** The verified access token: REST calls on the user's behalf use it. */
  accessToken: string;
  portal: PortalConfig;
  admin: boolean;
  /**
   * app.info's INSTALLED: false while the portal waits for the install page's
   * BX24.installFinish() (the first install), true afterwards; null when the
   * portal did not say (treated as installed: nothing registers by itself).
   */
  installed: boolean | null;
}

export function portalRefused(): AppError {
  return new AppError(
    "PORTAL_AUTH_FAILED",
    "The portal did not confirm this request: open the application from the portal as an administrator (the token must belong to this connector's application and must not have expired).",
  );
}

/** The portal settings, or a CONFIG_INVALID naming what is missing (names only, never values). */
export function requirePortal(config: Config): PortalConfig {
  if (config.portal) return config.portal;
  throw new AppError(
    "CONFIG_INVALID",
    `The portal application is not configured: set ${config.portalMissing.join(" and ")} with \`npm run deploy -- --set PORTAL_URL=https://<your portal> --set BITRIX_CLIENT_ID=<the local application's client_id>\` (or \`wrangler secret put NAME\`).`,
  );
}

/**
 * A REST client that acts with the user's token on the configured portal
 * (the only address it can reach). Verification retries once; registration
 * keeps the client's default backoff for rate limits.
 */
export function portalClient(
  portal: PortalConfig,
  accessToken: string,
  options: { maxRetries?: number; fetch?: typeof fetch } = {},
): Portal {
  return new Portal({ auth: { kind: "oauth", portal: portal.origin, accessToken }, timeoutMs: VERIFY_TIMEOUT_MS, ...options });
}

function appCodeOf(info: unknown): string | null {
  if (info === null || typeof info !== "object") return null;
  const i = info as Record<string, unknown>;
  const code = i.CODE ?? i.client_id ?? i.CLIENT_ID;
  return typeof code === "string" ? code : null;
}

/**
 * Verifies an access token with the portal: our application's, and (with
 * `requireAdmin`) an administrator's. Throws the generic 403 otherwise, or a
 * 502 when the portal cannot be reached (which says nothing about the caller).
 */
export async function verifyPortalToken(
  config: Config,
  accessToken: string | undefined,
  options: { requireAdmin: boolean; fetch?: typeof fetch },
): Promise<PortalUser> {
  const portal = requirePortal(config);
  const token = (accessToken ?? "").trim();
  if (token === "" || token.length > 512) throw portalRefused();
  const client = portalClient(portal, token, { maxRetries: 1, fetch: options.fetch });
  try {
    const info = await client.call("app.info");
    if (appCodeOf(info) !== portal.clientId) throw portalRefused();
    const admin = (await client.call("user.admin")) === true;
    if (options.requireAdmin && !admin) throw portalRefused();
    const installed = (info as Record<string, unknown>).INSTALLED;
    const flag = installed === true || installed === "Y" ? true : installed === false || installed === "N" ? false : null;
    return { accessToken: token, portal, admin, installed: flag };
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (err instanceof PortalError && (err.code === "NETWORK_ERROR" || err.code === "BAD_RESPONSE" || err.status >= 500)) {
      throw new AppError("PORTAL_UNAVAILABLE", "The portal could not be reached to verify this request. Try again in a minute.");
    }
    throw portalRefused();
  }
}
