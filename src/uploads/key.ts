/**
 * Object keys that uploads may write. A key never leaves the bucket's table
 * space: no `..`, no absolute or empty segments, no dot-folders (`.versions/`
 * belongs to the Worker), and it must name a table file or a table's sidecar.
 */

import { AppError } from "../errors";
import { FORMATS } from "../formats/registry";
import { refusedWorkbookKey } from "../formats/sniff";
import { miscasedSidecar, SIDECAR_SUFFIX, sidecarKey, sidecarTable, tableKeyInfo } from "../rules/naming";

export type KeyKind = "table" | "sidecar";

export const MAX_ENCODED_KEY = 980;

export function checkKey(raw: string): { key: string; kind: KeyKind } {
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw new AppError("KEY_INVALID", `The key "${raw}" is not valid percent-encoding.`);
  }
  const fail = (why: string) => new AppError("KEY_INVALID", `The key "${key}" is not allowed: ${why}.`);
  if (key === "" || key.length > 1024) throw fail("it must be 1 to 1024 characters");
  // Versions live at `.versions/<encodeURIComponent(key)>/<id>` (44 more bytes), and R2 keys are at most 1024 bytes.
  if (encodeURIComponent(key).length > MAX_ENCODED_KEY)
    throw fail(
      `it is too long: percent-encoded it must stay within ${MAX_ENCODED_KEY} bytes (a Cyrillic letter counts 6), so that its kept versions fit R2's 1024-byte keys`,
    );
  if (key.startsWith("/") || key.includes("\\")) throw fail("use a relative path with / between folders");
  if (/[\u0000-\u001f\u007f]/.test(key)) throw fail("it contains control characters");
  const parts = key.split("/");
  if (parts.some((p) => p === "" || p === "." || p === "..")) throw fail("empty, . and .. path segments are not allowed");
  if (parts.some((p) => p.startsWith("."))) throw fail("names starting with a dot are reserved (.versions/ keeps old versions)");
  const table = sidecarTable(key);
  if (table !== null) {
    if (!tableKeyInfo(table)) throw fail(`a schema must sit next to a table file, as <file>${SIDECAR_SUFFIX}`);
    return { key, kind: "sidecar" };
  }
  if (miscasedSidecar(key)) {
    const meant = sidecarKey(key.slice(0, -SIDECAR_SUFFIX.length));
    throw fail(
      `a schema's suffix is ${SIDECAR_SUFFIX} in lower case (keys are case-sensitive, and the connector reads only that key): upload it as "${meant}"`,
    );
  }
  // Workbooks the connector does not read get a conversion hint, not "not a table".
  const refused = refusedWorkbookKey(key);
  if (refused) throw refused;
  if (!tableKeyInfo(key))
    throw fail(`only ${FORMATS.listed.replace(/ or /, ", ")} (optionally .gz) files and their .schema.json sidecars can be uploaded`);
  return { key, kind: "table" };
}
