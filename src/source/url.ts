/**
 * Fetching URL tables safely: only hosts the operator listed, every redirect
 * hop checked against the same list (a published Google Sheet redirects to
 * another host), a time limit for the server to start answering, and errors
 * that name the table.
 */
import type { Config } from "../config/config";
import { AppError } from "../http/errors";

const MAX_REDIRECTS = 5;

export function hostAllowed(url: URL, allowed: ReadonlySet<string>): boolean {
  return allowed.has(url.host.toLowerCase()) || allowed.has(url.hostname.toLowerCase());
}

export async function fetchAllowed(
  rawUrl: string,
  config: Config,
  table: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  let url = new URL(rawUrl);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new AppError("URL_UNAVAILABLE", `Table "${table}": ${url.href} is not an http(s) address.`);
    }
    if (!hostAllowed(url, config.allowedHosts)) {
      throw new AppError(
        "URL_HOST_NOT_ALLOWED",
        `Table "${table}": the host ${url.host} is not in URL_ALLOWED_HOSTS${hop > 0 ? ` (reached by a redirect from ${rawUrl})` : ""}. Add "${url.hostname}" to URL_ALLOWED_HOSTS if you trust it.`,
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
          : `Table "${table}": fetching ${url.href} failed (${(err as Error).message}).`,
      );
    } finally {
      clearTimeout(timer);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.has("location")) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) {
        throw new AppError("URL_UNAVAILABLE", `Table "${table}": more than ${MAX_REDIRECTS} redirects starting at ${rawUrl}.`);
      }
      url = new URL(res.headers.get("location")!, url);
      continue;
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new AppError("URL_UNAVAILABLE", `Table "${table}": ${url.href} answered HTTP ${res.status}. Check that the file is still published at that address.`);
    }
    return res;
  }
}
