/** GET /files/<key>. */
import type { Env } from "../../config/config";
import { AppError } from "../../errors";
import { storedContentType, tableKeyInfo } from "../../rules/naming";

/** The live object as stored (compressed files stay compressed), so an operator can get back what is served. */
export async function getFile(env: Env, key: string): Promise<Response> {
  const obj = await env.DATA.get(key);
  if (!obj) throw new AppError("FILE_NOT_FOUND", `There is no file "${key}".`);
  const headers = new Headers({ etag: obj.httpEtag, "content-length": String(obj.size), "cache-control": "no-store" });
  const info = tableKeyInfo(key);
  const byExtension = info ? storedContentType(info) : "application/json";
  headers.set("content-type", obj.httpMetadata?.contentType ?? byExtension);
  return new Response(obj.body, { headers });
}
