/**
 * The portal's connector token: sent in the body as `connection[token]` (or
 * `token`), one of CONNECTOR_TOKEN's comma-separated values.
 */
import { AppError } from "../errors";
import { tokenMatches } from "./secret";
import { type AuthStrategy, recordOf, textOf } from "./strategy";

export const connectorToken: AuthStrategy<void> = async ({ body, config }) => {
  if (config.tokens.length === 0) {
    throw new AppError(
      "TOKEN_NOT_CONFIGURED",
      "This connector has no token configured, so it serves no data. Set one with `wrangler secret put CONNECTOR_TOKEN` (for local dev: `npm start` uses dev-token).",
    );
  }
  const given = textOf(recordOf(body.connection).token, body.token);
  if (given === "") {
    throw new AppError(
      "TOKEN_MISSING",
      "No token was sent. The portal sends it as connection[token]: set the source's token setting to the Worker's CONNECTOR_TOKEN.",
    );
  }
  if (!(await tokenMatches(given, config.tokens))) {
    throw new AppError(
      "TOKEN_INVALID",
      "The token is wrong. Set the source's token setting to the value of the Worker's CONNECTOR_TOKEN secret.",
    );
  }
};
