/**
 * The connection token check. Both sides are hashed first so the comparison
 * is constant-time whatever their lengths, and every configured token is
 * compared (several tokens allow rotation without downtime).
 */
import type { Config } from "../config/config";
import { AppError } from "../http/errors";

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

export async function tokenMatches(given: string, tokens: readonly string[]): Promise<boolean> {
  const g = await digest(given);
  let ok = false;
  for (const t of tokens) {
    if (crypto.subtle.timingSafeEqual(g, await digest(t))) ok = true;
  }
  return ok;
}

export async function authorize(
  body: { connection?: Record<string, string>; token?: string },
  config: Config,
): Promise<void> {
  if (config.tokens.length === 0) {
    throw new AppError(
      "TOKEN_NOT_CONFIGURED",
      "This connector has no token configured, so it serves no data. Set one with `wrangler secret put CONNECTOR_TOKEN` (for local dev: `npm start` uses dev-token).",
    );
  }
  const given = (body.connection?.token ?? body.token ?? "").trim();
  if (given === "") {
    throw new AppError("TOKEN_MISSING", "No token was sent. The portal sends it as connection[token]: set the source's token setting to the Worker's CONNECTOR_TOKEN.");
  }
  if (!(await tokenMatches(given, config.tokens))) {
    throw new AppError("TOKEN_INVALID", "The token is wrong. Set the source's token setting to the value of the Worker's CONNECTOR_TOKEN secret.");
  }
}
