/**
 * The installation record: the application token, constant for one
 * installation of the app (PROTOCOL §6). The first verified install stores
 * it — from the install frame's APPLICATION_TOKEN (an app with a page; newer
 * portals send it) or from the ONAPPINSTALL event's `auth[application_token]`
 * (sent only to apps that use only the API); every later install event must
 * carry the same one, so a replayed or forged event cannot re-run the
 * registration even with a valid token. It lives in a dot-folder, which is never a table nor an upload target.
 */
import * as z from "zod";
import { validate } from "../request/schemas";
import { jsonObject, parseJson } from "../values/json";
import { type PortalUser, portalRefused, requirePortal, verifyPortalToken } from "./portal-token";
import { tokenMatches } from "./secret";
import type { AuthStrategy } from "./strategy";

export const INSTALLATION_KEY = ".app/installation.json";

interface Installation {
  applicationToken: string;
  memberId?: string;
  installedAt: string;
}

async function read(bucket: R2Bucket): Promise<Installation | null> {
  const obj = await bucket.get(INSTALLATION_KEY);
  if (!obj) return null;
  const parsed = parseJson(await obj.text());
  const value = parsed.ok ? jsonObject(parsed.value) : null;
  const applicationToken = value?.applicationToken;
  return typeof applicationToken === "string" ? { applicationToken, installedAt: String(value?.installedAt ?? "") } : null;
}

/** Refuses an install event whose application token differs from the recorded one (no portal call needed). */
async function checkApplicationToken(bucket: R2Bucket, token: string | undefined): Promise<void> {
  const known = await read(bucket);
  if (known && !(token && (await tokenMatches(token, [known.applicationToken])))) throw portalRefused();
}

/**
 * Records the application token of the first verified install: the install
 * event's `auth[application_token]`, or the install frame's APPLICATION_TOKEN
 * (routes/app/frame.ts). Never replaces a recorded one.
 */
export async function recordApplicationToken(bucket: R2Bucket, token: string | undefined, memberId: string | undefined): Promise<void> {
  if (!token || (await read(bucket))) return;
  const record: Installation = { applicationToken: token, ...(memberId ? { memberId } : {}), installedAt: new Date().toISOString() };
  // onlyIf: a concurrent first install must not overwrite another's record.
  await bucket.put(INSTALLATION_KEY, JSON.stringify(record), {
    onlyIf: { etagDoesNotMatch: "*" },
    httpMetadata: { contentType: "application/json" },
  });
}

const field = z.string().max(4096).optional();
const InstallCredentials = z.looseObject({
  event: field,
  auth: z.looseObject({ access_token: field, application_token: field, domain: field, member_id: field }).optional(),
  AUTH_ID: field,
  DOMAIN: field,
  member_id: field,
});

export interface Installer {
  user: PortalUser;
  /** The ONAPPINSTALL event (answered JSON) rather than the install page (answered HTML). */
  event: boolean;
}

/**
 * POST /install: the ONAPPINSTALL event (`auth[access_token]`,
 * `auth[application_token]`) or the install page form (`AUTH_ID`, `DOMAIN`).
 * A request for another portal or with another installation's application
 * token is refused without calling anything; then the token must be our
 * application's and an administrator's (auth/portal-token.ts).
 */
export const installer: AuthStrategy<Installer> = async ({ body, config, env }) => {
  const portal = requirePortal(config);
  // The credentials' own shape is checked first: a malformed one is a 400, and the portal is not called.
  const form = validate(InstallCredentials, body);
  const eventName = form.event?.toUpperCase();
  if (eventName !== undefined && eventName !== "ONAPPINSTALL") throw portalRefused();
  const domain = (form.auth?.domain ?? form.DOMAIN ?? "").toLowerCase();
  if (domain !== "" && domain !== portal.host) throw portalRefused();
  const event = Boolean(eventName);
  if (event) await checkApplicationToken(env.DATA, form.auth?.application_token);
  const user = await verifyPortalToken(config, form.auth?.access_token ?? form.AUTH_ID, { requireAdmin: true });
  if (event) await recordApplicationToken(env.DATA, form.auth?.application_token, form.auth?.member_id ?? form.member_id);
  return { user, event };
};
