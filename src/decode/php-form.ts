/**
 * The portal's bodies are PHP `http_build_query` output:
 * `filter%5B0%5D%5B%3E%3DDATE%5D=...`. qs parses PHP bracket syntax; with
 * `parseArrays: false` every level is a plain object, so numeric keys
 * (`filter[0]`) and operator keys (`filter[>=DATE]`) live side by side exactly
 * as PHP had them, and lists arrive as `{"0": …, "1": …}` in index order.
 */
import qs from "qs";
import { AppError } from "../http/errors";

export const FORM_MAX_DEPTH = 32;
export const FORM_MAX_PARAMETERS = 100_000;

export function parsePhpForm(body: string): Record<string, unknown> {
  try {
    return qs.parse(body, {
      depth: FORM_MAX_DEPTH,
      strictDepth: true,
      parameterLimit: FORM_MAX_PARAMETERS,
      throwOnLimitExceeded: true,
      parseArrays: false,
      allowDots: false,
      allowPrototypes: false,
      plainObjects: true,
      ignoreQueryPrefix: false,
    }) as Record<string, unknown>;
  } catch (err) {
    throw new AppError(
      "BODY_INVALID",
      `The form body could not be decoded (${(err as Error).message}); at most ${FORM_MAX_PARAMETERS} parameters nested ${FORM_MAX_DEPTH} levels deep are accepted.`,
    );
  }
}
