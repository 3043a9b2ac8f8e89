/**
 * The app page's session: after the frame's AUTH_ID was verified with the
 * portal (auth/portal-token.ts), the page gets a short-lived token the Worker
 * signed. It lives in the page's memory (third-party cookies are blocked in
 * the portal's iframe) and is sent as the `x-app-session` header on the
 * page's own calls (/app/api/…, /files/…).
 *
 *   v1.<claims>.<sealed access token>.<HMAC-SHA-256 of both>
 *
 * The claims (portal host, member_id, expiry) are signed; the administrator's
 * portal access token travels inside, sealed with AES-GCM (the claims are its
 * additional data), so REST calls (sync) use it server-side and it never has
 * to be trusted from the page: the page cannot change it without breaking the
 * MAC, and cannot read it (it only ever had the same token from the frame).
 *
 * Keys: HKDF-SHA-256 from a random 256-bit root kept in the bucket at
 * `.app/session-key` (a dot-folder: never a table, never an upload target),
 * made on first use, each key with its own label and bound to PORTAL_URL and
 * BITRIX_CLIENT_ID. Not CONNECTOR_TOKEN: the portal stores that one in the
 * source's settings, where anyone who may edit BI sources can read it, and a
 * session allows uploads and deletes. Nothing to set up; deleting the object
 * ends every session within ROOT_CACHE_MS (an isolate re-reads it that often).
 */
import type { Config, Env, PortalConfig } from "../config/config";
import { AppError } from "../errors";
import { jsonObject, parseJson } from "../values/json";
import { requirePortal } from "./portal-token";
import { bytesEqual } from "./secret";
import type { AuthStrategy } from "./strategy";

export const SESSION_HEADER = "x-app-session";
/** Minutes, not the access token's hour: the page renews it through BX24 (auth/session renew). */
export const SESSION_TTL_SECONDS = 15 * 60;
export const SESSION_KEY_OBJECT = ".app/session-key";

export interface AppSession {
  portal: PortalConfig;
  /** The portal's member_id as the frame sent it ("" when it sent none): unverified (no portal method confirms it), so a label only, never a check. */
  member: string;
  /** The verified administrator's access token, for REST calls on PORTAL_URL. */
  accessToken: string;
  /** Unix seconds. */
  expires: number;
}

interface Claims {
  host: string;
  member: string;
  exp: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unb64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/**
 * How long an isolate trusts the root it read: deleting `.app/session-key`
 * must end the sessions of warm isolates too, and a warm isolate must not go
 * on signing with a root the bucket no longer holds (another isolate would
 * make a new one, and each would refuse the other's sessions).
 */
export const ROOT_CACHE_MS = 60_000;

let rootCache: { bucket: R2Bucket; root: Promise<Uint8Array>; read: number } | null = null;

/** The root secret: read from the bucket, or made once (a concurrent first use keeps the first one written). */
async function rootKey(bucket: R2Bucket): Promise<Uint8Array> {
  const stored = await bucket.get(SESSION_KEY_OBJECT);
  if (stored) {
    const bytes = new Uint8Array(await stored.arrayBuffer());
    if (bytes.byteLength === 32) return bytes;
  }
  const fresh = crypto.getRandomValues(new Uint8Array(32));
  const written = await bucket.put(SESSION_KEY_OBJECT, fresh, { onlyIf: { etagDoesNotMatch: "*" } });
  if (written) return fresh;
  const winner = await bucket.get(SESSION_KEY_OBJECT);
  const bytes = winner ? new Uint8Array(await winner.arrayBuffer()) : new Uint8Array();
  if (bytes.byteLength !== 32)
    throw new AppError(
      "INTERNAL",
      `The app's session key (${SESSION_KEY_OBJECT} in the bucket) is damaged: delete that object; a new one is made on the next open.`,
    );
  return bytes;
}

async function keys(env: Env, portal: PortalConfig, now: number): Promise<{ mac: CryptoKey; seal: CryptoKey }> {
  if (rootCache?.bucket !== env.DATA || Math.abs(now - rootCache.read) >= ROOT_CACHE_MS)
    rootCache = { bucket: env.DATA, root: rootKey(env.DATA), read: now };
  let root: Uint8Array;
  try {
    root = await rootCache.root;
  } catch (err) {
    rootCache = null;
    throw err;
  }
  const base = await crypto.subtle.importKey("raw", root, "HKDF", false, ["deriveKey"]);
  const hkdf = (label: string) => ({
    name: "HKDF",
    hash: "SHA-256",
    salt: enc.encode("bitrix24-bi-files-connector app session v1"),
    info: enc.encode(`${label}\n${portal.origin}\n${portal.clientId}`),
  });
  const [mac, seal] = await Promise.all([
    crypto.subtle.deriveKey(hkdf("session-mac"), base, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]),
    crypto.subtle.deriveKey(hkdf("session-seal"), base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]),
  ]);
  return { mac, seal };
}

/** A session token for a verified administrator of the configured portal. */
export async function issueSession(
  env: Env,
  portal: PortalConfig,
  accessToken: string,
  member: string,
  now = Date.now(),
): Promise<{ token: string; expires: number }> {
  const { mac, seal } = await keys(env, portal, now);
  const exp = Math.floor(now / 1000) + SESSION_TTL_SECONDS;
  const claims = b64url(enc.encode(JSON.stringify({ host: portal.host, member, exp } satisfies Claims)));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: enc.encode(claims) }, seal, enc.encode(accessToken)),
  );
  const body = `v1.${claims}.${b64url(new Uint8Array([...iv, ...sealed]))}`;
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", mac, enc.encode(body)));
  return { token: `${body}.${b64url(sig)}`, expires: exp };
}

function invalid(): AppError {
  return new AppError(
    "SESSION_INVALID",
    "This page's session is missing or not valid for this connector: reopen the application from the portal.",
  );
}

/** The session a token carries: its MAC checked in constant time, then its expiry and portal. */
export async function verifySession(env: Env, config: Config, token: string, now = Date.now()): Promise<AppSession> {
  const portal = config.portal;
  if (!portal) throw requirePortal(config);
  const parts = token.trim().split(".");
  if (token.length > 4096 || parts.length !== 4 || parts[0] !== "v1") throw invalid();
  const [, claimsText, sealedText, sigText] = parts;
  const sig = unb64url(sigText);
  const sealed = unb64url(sealedText);
  const claimsBytes = unb64url(claimsText);
  if (!sig || !sealed || !claimsBytes || sealed.byteLength < 13) throw invalid();
  const { mac, seal } = await keys(env, portal, now);
  const expected = await crypto.subtle.sign("HMAC", mac, enc.encode(`v1.${claimsText}.${sealedText}`));
  if (!bytesEqual(expected, sig)) throw invalid();
  const parsed = parseJson(dec.decode(claimsBytes));
  const claims = parsed.ok ? jsonObject(parsed.value) : null;
  if (!claims || claims.host !== portal.host || typeof claims.exp !== "number" || typeof claims.member !== "string") throw invalid();
  if (claims.exp * 1000 <= now)
    throw new AppError(
      "SESSION_EXPIRED",
      "This page's session has expired: the page renews it from the portal by itself; if it cannot, reload the application.",
    );
  let accessToken: string;
  try {
    accessToken = dec.decode(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: sealed.slice(0, 12), additionalData: enc.encode(claimsText) },
        seal,
        sealed.slice(12),
      ),
    );
  } catch {
    throw invalid();
  }
  return { portal, member: claims.member, accessToken, expires: claims.exp };
}

/** The page's own API calls: the `x-app-session` header. */
export const appSession: AuthStrategy<AppSession> = async ({ request, config, env }) => {
  const token = request.headers.get(SESSION_HEADER);
  if (!token) throw invalid();
  return verifySession(env, config, token);
};

/** The app session when the request carries one, else `fallback` (/files: the upload token, for scripts). */
export function sessionOr<P>(fallback: AuthStrategy<P>): AuthStrategy<AppSession | P> {
  return async (credentials) => (credentials.request.headers.has(SESSION_HEADER) ? appSession(credentials) : fallback(credentials));
}
