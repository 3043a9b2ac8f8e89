/**
 * Reads a request body (at most MAX_BODY_BYTES, counted while streaming, so a
 * lying Content-Length cannot get past it) and decodes it as the portal's form
 * encoding or as JSON.
 */
import { AppError } from "../errors";
import { jsonObject, parseJson } from "../values/json";
import { parsePhpForm } from "./php-form";

export const MAX_BODY_BYTES = 1024 * 1024;

function tooLarge(max: number): AppError {
  return new AppError("BODY_TOO_LARGE", `The request body is larger than ${max} bytes (for /data: narrow the select or filter lists).`);
}

async function readLimited(request: Request, max: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > max) {
    await request.body?.cancel().catch(() => {});
    throw tooLarge(max);
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge(max);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) all.set(c, at), (at += c.byteLength);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(all);
  } catch {
    throw new AppError("BODY_INVALID", "The request body is not valid UTF-8.");
  }
}

/** The body as UTF-8 text, read with the size cap (for bodies that are not portal forms). */
export function readBodyText(request: Request, max = MAX_BODY_BYTES): Promise<string> {
  return readLimited(request, max);
}

/** The body as a plain object, whichever encoding it came in. */
export async function decodeBody(request: Request): Promise<Record<string, unknown>> {
  const text = await readLimited(request, MAX_BODY_BYTES);
  const type = (request.headers.get("content-type") ?? "").toLowerCase();
  const looksJson = type.includes("json") || (!type.includes("form") && /^\s*\{/.test(text));
  if (!looksJson) return parsePhpForm(text);
  const parsed = parseJson(text);
  if (!parsed.ok) throw new AppError("BODY_INVALID", `The JSON body could not be parsed (${parsed.error}).`);
  const value = jsonObject(parsed.value);
  if (value === null) throw new AppError("BODY_INVALID", 'The JSON body must be an object such as {"table": "sales"}.');
  return value;
}
