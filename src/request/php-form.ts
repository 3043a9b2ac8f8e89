/**
 * The portal's bodies are PHP `http_build_query` output:
 * `filter%5B0%5D%5B%3E%3DDATE%5D=...`. qs parses PHP bracket syntax; with
 * `parseArrays: false` every level is a plain object, so numeric keys
 * (`filter[0]`) and operator keys (`filter[>=DATE]`) live side by side exactly
 * as PHP had them, and lists arrive as `{"0": …, "1": …}` in index order.
 */
import qs from "qs";
import { AppError } from "../errors";

export const FORM_MAX_DEPTH = 32;
export const FORM_MAX_PARAMETERS = 100_000;

/** Decodes a form key as qs does: `+` is a space, a malformed escape stays as it is. */
function decodeKey(raw: string): string {
  const text = raw.replace(/\+/g, " ");
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * qs drops every `__proto__` key segment without a word (`filter[__proto__]=x`
 * would serve the unfiltered table). Such a key can never be a condition, a
 * field or a setting, so the body is refused instead.
 */
function refusePrototypeKeys(body: string): void {
  if (!/proto/i.test(body) && !/%/.test(body)) return; // fast path: no key can spell it
  for (const part of body.split("&")) {
    const bracketEq = part.indexOf("]="); // where qs splits key and value
    const eq = bracketEq < 0 ? part.indexOf("=") : bracketEq + 1;
    const key = decodeKey(eq < 0 ? part : part.slice(0, eq));
    if (!key.includes("__proto__")) continue;
    const segments = key.split(/[[\]]+/);
    if (!segments.includes("__proto__")) continue;
    const inFilter = segments[0] === "filter";
    throw new AppError(
      inFilter ? "FILTER_INVALID" : "BODY_INVALID",
      `The parameter "${key.length > 120 ? `${key.slice(0, 120)}…` : key}" uses the key "__proto__", which is not accepted: it cannot name a ${inFilter ? "filter condition or group" : "parameter"}.`,
    );
  }
}

export function parsePhpForm(body: string): Record<string, unknown> {
  refusePrototypeKeys(body);
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
