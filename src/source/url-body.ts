/**
 * What a URL table's server answered, checked before it is parsed: a
 * published sheet that lost its publishing, a sign-in page, an image, a
 * transfer cut short. Each is a URL_UNAVAILABLE that says what came back,
 * never an INTERNAL error or a table parsed out of HTML.
 */
import { AppError } from "../errors";
import { FORMATS } from "../formats/registry";
import type { UrlTable } from "../model";
import type { Bytes } from "../streams/bytes";
import { shownUrl } from "./url";

// Bytes looked at to recognise an HTML page (after a BOM and blank space).
const SNIFF_BYTES = 256;
const HTML_START = /^<(?:!doctype\s+html|html|head|body)[\s>]/i;
// Types no table can come as. (Not application/vnd.ms-excel: servers send it for .csv.)
const NOT_A_TABLE = /^(?:image|audio|video|font)\/|^application\/(?:pdf|zip|vnd\.openxmlformats|vnd\.oasis\.opendocument)/;

/** How the format names itself in messages (the registry's words, per format). */
function publishing(format: UrlTable["format"]): { kind: string; hint: string } {
  const f = FORMATS.formatOf(format);
  return f ? f.publishing(format) : { kind: format.toUpperCase(), hint: "check the address" };
}

function unavailable(table: string, url: string, detail: string): AppError {
  return new AppError("URL_UNAVAILABLE", `Table "${table}": ${shownUrl(url)} ${detail}`);
}

function htmlPage(table: string, url: string, format: UrlTable["format"], servedAs: string): AppError {
  const { kind, hint } = publishing(format);
  return unavailable(table, url, `answered an HTML page (${servedAs}), not a ${kind} file: ${hint}.`);
}

function looksLikeHtml(bytes: Uint8Array): boolean {
  let at = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (at < bytes.length && (bytes[at] === 0x20 || bytes[at] === 0x0a || bytes[at] === 0x0d || bytes[at] === 0x09)) at++;
  return HTML_START.test(String.fromCharCode(...bytes.subarray(at, at + 32)));
}

/**
 * The body of a 200/206 answer, checked: refused at once for a type that is
 * no table, refused when its first bytes are an HTML page, and failing with
 * URL_UNAVAILABLE when it ends before its Content-Length or the connection
 * breaks. Runs on the raw bytes, before any gunzip.
 */
export function checkedUrlBody(res: Response, bytes: Bytes, url: string, table: string, format: UrlTable["format"]): Bytes {
  const type = (res.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type === "text/html" || type === "application/xhtml+xml") {
    void res.body?.cancel();
    throw htmlPage(table, url, format, type);
  }
  if (NOT_A_TABLE.test(type)) {
    void res.body?.cancel();
    const { kind, hint } = publishing(format);
    throw unavailable(table, url, `answered ${type}, not a ${kind} file: ${hint}.`);
  }
  // With a Content-Encoding the runtime decodes, and the length counts the encoded bytes.
  const lengthHeader = res.headers.get("content-encoding") ? null : res.headers.get("content-length");
  const declared = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  const servedAs = type === "" ? "served without a content type" : `served as ${type}`;
  const cut = (read: number) =>
    unavailable(
      table,
      url,
      `ended after ${read} of the ${declared} bytes its Content-Length announced: the transfer was cut. Try again; if it keeps failing, check the server that publishes the file.`,
    );

  return (async function* () {
    const source = bytes;
    let read = 0;
    try {
      // Hold the first bytes back until there are enough to tell an HTML page.
      const held: Uint8Array[] = [];
      let sniffed = false;
      for await (const chunk of source) {
        read += chunk.byteLength;
        if (sniffed) {
          yield chunk;
          continue;
        }
        held.push(chunk);
        if (read < SNIFF_BYTES) continue;
        sniffed = true;
        if (looksLikeHtml(concatFirst(held))) throw htmlPage(table, url, format, servedAs);
        yield* held;
      }
      if (!sniffed) {
        if (read > 0 && looksLikeHtml(concatFirst(held))) throw htmlPage(table, url, format, servedAs);
        yield* held;
      }
      if (declared !== undefined && read < declared) throw cut(read);
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (declared !== undefined && read < declared) throw cut(read);
      throw unavailable(table, url, `broke off after ${read} bytes (${(err as Error).message}). Try again later.`);
    } finally {
      await source.return(undefined);
    }
  })();
}

function concatFirst(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const size = Math.min(
    SNIFF_BYTES * 2,
    chunks.reduce((n, c) => n + c.byteLength, 0),
  );
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    if (at >= size) break;
    const part = c.subarray(0, size - at);
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
