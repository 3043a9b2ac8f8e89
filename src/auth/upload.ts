/** The upload token: `Authorization: Bearer <UPLOAD_TOKEN>` on /files, separate from the portal's token. */
import { AppError } from "../errors";
import { tokenMatches } from "./secret";
import type { AuthStrategy } from "./strategy";

export const uploadBearer: AuthStrategy<void> = async ({ request, config }) => {
  if (config.uploadTokens.length === 0) {
    throw new AppError("UPLOAD_NOT_CONFIGURED", "Uploads are off: set a separate upload secret with `wrangler secret put UPLOAD_TOKEN`.");
  }
  const header = request.headers.get("authorization") ?? "";
  const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? "";
  if (given === "") throw new AppError("TOKEN_MISSING", "Send the upload token as `Authorization: Bearer <UPLOAD_TOKEN>`.");
  if (!(await tokenMatches(given, config.uploadTokens)))
    throw new AppError("TOKEN_INVALID", "The upload token is wrong (it is UPLOAD_TOKEN, not the portal's CONNECTOR_TOKEN).");
};
