/**
 * Fetching URL tables safely: only hosts the operator listed, every redirect
 * hop checked against the same list (a published Google Sheet redirects to
 * another host), a time limit for the server to start answering, and errors
 * that name the table.
 */
import type { Config } from "../config/config";
import { AppError } from "../errors";

const MAX_REDIRECTS = 5;
/** The statuses whose Location is followed (304 and 300 are no redirect to follow). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Whether URL_ALLOWED_HOSTS lets the Worker fetch `url`. An entry without a
 * port allows the scheme's default port only (`example.com` is
 * https://example.com and http://example.com, never example.com:8080: a
 * redirect must not reach another service on an allowed machine); an entry
 * with a port allows exactly that port (`example.com:443` is
 * https://example.com too). `url.host` carries the port unless it is the
 * scheme's default.
 */
export function hostAllowed(url: URL, allowed: ReadonlySet<string>): boolean {
  const host = url.host.toLowerCase();
  if (allowed.has(host)) return true;
  if (url.port !== "") return false;
  const defaultPort = url.protocol === "https:" ? 443 : 80;
  return allowed.has(`${url.hostname.toLowerCase()}:${defaultPort}`);
}

// `scheme://user:pass@` anywhere in a text (an address that does not parse, a runtime's error message).
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;

/**
 * An address as messages show it: without the credentials (`user:pass@`)
 * it may carry, since messages reach portal users. For text (an address that
 * may not parse, an error message quoting one): every such part removed.
 */
export function shownUrl(url: URL | string): string {
  if (typeof url === "string") return url.replace(USERINFO, "$1");
  if (url.username === "" && url.password === "") return url.href;
  const shown = new URL(url.href);
  shown.username = "";
  shown.password = "";
  return shown.href;
}

/**
 * Where a redirect leads: never from https down to plain http (the file would
 * then travel unencrypted, open to tampering on the way). The host is checked
 * against the allowlist on the next hop like the first one. A Location that
 * is empty or no address is the server's fault, answered as URL_UNAVAILABLE.
 */
export function redirectTarget(from: URL, location: string | null, table: string): URL {
  const fix = "Check the server that publishes the file.";
  if (location === null || location.trim() === "") {
    throw new AppError("URL_UNAVAILABLE", `Table "${table}": ${shownUrl(from)} answered a redirect without a Location to follow. ${fix}`);
  }
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new AppError(
      "URL_UNAVAILABLE",
      `Table "${table}": ${shownUrl(from)} redirects to ${JSON.stringify(shownUrl(location.slice(0, 200)))}, which is not a valid address. ${fix}`,
    );
  }
  if (from.protocol === "https:" && next.protocol === "http:") {
    throw new AppError(
      "URL_UNAVAILABLE",
      `Table "${table}": ${shownUrl(from)} redirects to the unencrypted ${shownUrl(next)}; only https redirects are followed from an https address. Publish the file at an https address.`,
    );
  }
  return next;
}

export async function fetchAllowed(rawUrl: string, config: Config, table: string, headers: Record<string, string> = {}): Promise<Response> {
  let url = new URL(rawUrl);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new AppError("URL_UNAVAILABLE", `Table "${table}": ${shownUrl(url)} is not an http(s) address.`);
    }
    if (!hostAllowed(url, config.allowedHosts)) {
      throw new AppError(
        "URL_HOST_NOT_ALLOWED",
        `Table "${table}": the host ${url.host} is not in URL_ALLOWED_HOSTS${hop > 0 ? ` (reached by a redirect from ${shownUrl(rawUrl)})` : ""}. Add "${url.host}" to URL_ALLOWED_HOSTS if you trust it (an entry without a port allows only the scheme's default port).`,
      );
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), config.fetchTimeoutMs);
    let res: Response;
    try {
      res = await fetch(url.href, { headers, redirect: "manual", signal: abort.signal });
    } catch (err) {
      const timedOut = abort.signal.aborted;
      throw new AppError(
        timedOut ? "URL_TIMEOUT" : "URL_UNAVAILABLE",
        timedOut
          ? `Table "${table}": ${url.host} did not answer within ${config.fetchTimeoutMs} ms. Try again later or raise URL_FETCH_TIMEOUT_MS.`
          : `Table "${table}": fetching ${shownUrl(url)} failed (${shownUrl((err as Error).message)}).`,
      );
    } finally {
      clearTimeout(timer);
    }
    if (REDIRECTS.has(res.status)) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) {
        throw new AppError("URL_UNAVAILABLE", `Table "${table}": more than ${MAX_REDIRECTS} redirects starting at ${shownUrl(rawUrl)}.`);
      }
      url = redirectTarget(url, res.headers.get("location"), table);
      continue;
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new AppError(
        "URL_UNAVAILABLE",
        `Table "${table}": ${shownUrl(url)} answered HTTP ${res.status}. Check that the file is still published at that address.`,
      );
    }
    // A part of the file is only an answer to a range request, and only from its first byte:
    // otherwise it would be served as the whole table.
    if (res.status === 206 && (headers.range === undefined || !/^bytes 0-\d+\//.test(res.headers.get("content-range") ?? ""))) {
      await res.body?.cancel();
      throw new AppError(
        "URL_UNAVAILABLE",
        `Table "${table}": ${shownUrl(url)} answered 206 Partial Content (${res.headers.get("content-range") ?? "no Content-Range"}) ${headers.range === undefined ? "to a request for the whole file" : "not starting at the file's first byte"}: serving it would cut the table. Check the server that publishes the file.`,
      );
    }
    return res;
  }
}

/** A URL body needs to deliver at least this much per URL_FETCH_TIMEOUT_MS of waiting. */
export const MIN_BYTES_PER_WINDOW = 1024;

export interface BodyLimits {
  /** URL_FETCH_TIMEOUT_MS: a window of waiting for the body. */
  windowMs: number;
  /** URL_MAX_BYTES: the most a URL body may send. */
  maxBytes: number;
  /** Aborted when the client went away: the upstream read is cancelled at once. */
  signal?: AbortSignal;
  /**
   * The first `bytes` (the description's sample) must arrive within
   * `withinMs` of waiting: until then no byte of the answer can go out, and
   * the portal gives up after 60 s of silence.
   */
  prefix?: { bytes: number; withinMs: number };
}

const TIMEOUT = Symbol("timeout");

/**
 * A URL body read with limits, so one slow or endless server cannot hold a
 * request open: within every URL_FETCH_TIMEOUT_MS spent *waiting* for it
 * (time the Worker spends writing rows out does not count), the server must
 * send at least MIN_BYTES_PER_WINDOW, or the read fails with URL_TIMEOUT —
 * a trickle of 2 bytes every 5 s is as stuck as silence. More than
 * URL_MAX_BYTES fails with URL_TOO_LARGE. An abort cancels the fetch body
 * directly, even while a read is pending (a cancelled consumer cannot reach
 * it through the generators above, which wait for that read first).
 */
export async function* limitedBody(
  stream: ReadableStream<Uint8Array>,
  table: string,
  host: string,
  limits: BodyLimits,
): AsyncGenerator<Uint8Array, void, undefined> {
  const reader = stream.getReader();
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    reader.cancel().catch(() => {});
  };
  limits.signal?.addEventListener("abort", onAbort);
  let total = 0;
  let windowBytes = 0;
  let waited = 0; // ms spent waiting within the current window
  let prefixWaited = 0; // ms spent waiting while the prefix is incomplete
  const prefix = limits.prefix;
  const inPrefix = () => prefix !== undefined && total < prefix.bytes;
  let finished = false;
  const endWindow = () => {
    if (windowBytes < MIN_BYTES_PER_WINDOW) {
      throw new AppError(
        "URL_TIMEOUT",
        `Table "${table}": ${host} sent ${windowBytes === 0 ? "nothing" : `only ${windowBytes} bytes`} in ${limits.windowMs} ms (${total} bytes in all). A URL table's server must keep sending at least ${MIN_BYTES_PER_WINDOW} bytes per URL_FETCH_TIMEOUT_MS.`,
      );
    }
    windowBytes = 0;
    waited = 0;
  };
  try {
    if (limits.signal?.aborted) onAbort();
    for (;;) {
      const read = reader.read();
      read.catch(() => {});
      let got: ReadableStreamReadResult<Uint8Array>;
      for (;;) {
        const started = Date.now();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const limit = inPrefix() ? Math.min(limits.windowMs - waited, prefix!.withinMs - prefixWaited) : limits.windowMs - waited;
        const tick = new Promise<typeof TIMEOUT>((r) => (timer = setTimeout(() => r(TIMEOUT), Math.max(1, limit))));
        const r = await Promise.race([read, tick]);
        clearTimeout(timer);
        const spent = Date.now() - started;
        waited += spent;
        if (inPrefix()) prefixWaited += spent;
        if (r !== TIMEOUT) {
          got = r;
          break;
        }
        if (inPrefix() && prefixWaited >= prefix!.withinMs) {
          throw new AppError(
            "URL_TIMEOUT",
            `Table "${table}": ${host} sent only ${total} bytes in ${prefix!.withinMs} ms, but the first ${prefix!.bytes} bytes (or the whole file) are needed before the answer can start. A URL table's server must send them within twice URL_FETCH_TIMEOUT_MS.`,
          );
        }
        if (waited >= limits.windowMs) endWindow();
      }
      if (aborted) throw new AppError("URL_UNAVAILABLE", `Table "${table}": the read from ${host} was cancelled.`);
      if (got.done) {
        finished = true;
        return;
      }
      if (waited >= limits.windowMs) endWindow(); // this read ended the window: it counts for the next
      total += got.value.byteLength;
      windowBytes += got.value.byteLength;
      if (total > limits.maxBytes) {
        throw new AppError(
          "URL_TOO_LARGE",
          `Table "${table}": ${host} sent more than ${limits.maxBytes} bytes (URL_MAX_BYTES). Publish a smaller file, or raise URL_MAX_BYTES if this size is expected.`,
        );
      }
      if (got.value.byteLength > 0) yield got.value;
    }
  } finally {
    limits.signal?.removeEventListener("abort", onAbort);
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
