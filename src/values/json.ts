/**
 * JSON text → value without exceptions for the caller to catch: the one
 * place that parses small JSON documents (request bodies, sidecars,
 * URL_TABLES, the installation record, portal answers).
 */
export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

export function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** A JSON object's own members as a record (null for anything else). */
export function jsonObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : null;
}
