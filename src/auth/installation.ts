/**
 * The installation record: the install event's `auth[application_token]`,
 * constant for one installation of the app (PROTOCOL §6). The first verified
 * install stores it; every later install event must carry the same one, so a
 * replayed or forged event cannot re-run the registration even with a valid
 * token. It lives in a dot-folder, which is never a table nor an upload target.
 */
import { tokenMatches } from "./token";
import { portalRefused } from "./portal";

export const INSTALLATION_KEY = ".app/installation.json";

interface Installation {
  applicationToken: string;
  memberId?: string;
  installedAt: string;
}

async function read(bucket: R2Bucket): Promise<Installation | null> {
  const obj = await bucket.get(INSTALLATION_KEY);
  if (!obj) return null;
  try {
    const value = JSON.parse(await obj.text()) as Partial<Installation>;
    return typeof value.applicationToken === "string" ? (value as Installation) : null;
  } catch {
    return null;
  }
}

/** Refuses an install event whose application token differs from the recorded one (no portal call needed). */
export async function checkApplicationToken(bucket: R2Bucket, token: string | undefined): Promise<void> {
  const known = await read(bucket);
  if (known && !(token && (await tokenMatches(token, [known.applicationToken])))) throw portalRefused();
}

/** Records the application token of the first verified install event. */
export async function recordApplicationToken(bucket: R2Bucket, token: string | undefined, memberId: string | undefined): Promise<void> {
  if (!token || (await read(bucket))) return;
  const record: Installation = { applicationToken: token, ...(memberId ? { memberId } : {}), installedAt: new Date().toISOString() };
  // onlyIf: a concurrent first install must not overwrite another's record.
  await bucket.put(INSTALLATION_KEY, JSON.stringify(record), { onlyIf: { etagDoesNotMatch: "*" }, httpMetadata: { contentType: "application/json" } });
}
