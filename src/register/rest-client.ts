/**
 * A small Bitrix24 REST client on `fetch`, so the same registration code runs
 * in Node (npm run setup) and in the Worker (/install). Errors inside HTTP 200
 * bodies are errors; QUERY_LIMIT_EXCEEDED (503) and OPERATION_TIME_LIMIT (429)
 * are retried with exponential backoff; an expired OAuth token is refreshed
 * once when a refresh token and client credentials were given.
 */
import { parseJson } from "../values/json";
import { itemsOf } from "./answers";

export class PortalError extends Error {
  constructor(
    readonly method: string,
    readonly code: string,
    readonly description: string,
    readonly status: number,
  ) {
    super(`${method}: ${code}${description ? ` (${description})` : ""}`);
    this.name = "PortalError";
  }
}

export type PortalAuth =
  | {
      kind: "oauth";
      portal: string;
      accessToken: string;
      refreshToken?: string;
      clientId?: string;
      clientSecret?: string;
      oauthServer?: string;
    }
  | { kind: "webhook"; url: string };

export interface PortalOptions {
  auth: PortalAuth;
  /** First backoff delay in ms (doubles each retry). */
  retryBaseMs?: number;
  maxRetries?: number;
  /** Per-call time limit in ms (none by default). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Called when a refreshed token pair was obtained (the CLI prints a hint). */
  onRefresh?: (tokens: { accessToken: string; refreshToken: string }) => void;
}

const RETRYABLE = new Set(["QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT"]);
export const PAGE_SIZE = 50;
/** 10,000 items: far more connectors, sources or datasets than one application makes. */
const MAX_PAGES = 200;

function errorOf(body: unknown): { code: string; description: string } | null {
  if (body === null || typeof body !== "object") return null;
  const b = body as Record<string, unknown>;
  const inner = b.result && typeof b.result === "object" ? (b.result as Record<string, unknown>).error : undefined;
  const e = inner ?? b.error;
  if (e === undefined || e === null || e === "" || e === false) return null;
  if (typeof e === "object") {
    const o = e as Record<string, unknown>;
    return { code: String(o.error ?? o.code ?? "ERROR"), description: String(o.error_description ?? o.message ?? "") };
  }
  const fromInner = inner !== undefined ? (b.result as Record<string, unknown>) : b;
  return { code: String(e), description: String(fromInner.error_description ?? "") };
}

export class Portal {
  private auth: PortalAuth;
  private readonly retryBaseMs: number;
  private readonly maxRetries: number;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs?: number;

  constructor(private readonly options: PortalOptions) {
    this.auth = options.auth;
    this.retryBaseMs = options.retryBaseMs ?? 500;
    this.maxRetries = options.maxRetries ?? 6;
    this.fetchFn = options.fetch ?? ((...args) => fetch(...args));
    this.timeoutMs = options.timeoutMs;
  }

  private endpoint(method: string): string {
    if (this.auth.kind === "webhook") return `${this.auth.url.replace(/\/+$/, "")}/${method}.json`;
    return `${this.auth.portal.replace(/\/+$/, "")}/rest/${method}.json`;
  }

  async call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const body = this.auth.kind === "oauth" ? { ...params, auth: this.auth.accessToken } : params;
      let res: Response;
      try {
        res = await this.fetchFn(this.endpoint(method), {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify(body),
          redirect: "manual",
          ...(this.timeoutMs ? { signal: AbortSignal.timeout(this.timeoutMs) } : {}),
        });
      } catch (err) {
        throw new PortalError(method, "NETWORK_ERROR", (err as Error).message, 0);
      }
      const text = await res.text();
      const parsed = text === "" ? { ok: true as const, value: null } : parseJson(text);
      if (!parsed.ok) throw new PortalError(method, "BAD_RESPONSE", `HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`, res.status);
      const json = parsed.value;
      const err = errorOf(json);
      if (err === null && res.ok) {
        // A 200 without an object (an empty body, `null`, a bare value) is no answer: say so rather than fail on reading it.
        if (json === null || typeof json !== "object")
          throw new PortalError(method, "BAD_RESPONSE", `HTTP ${res.status}, no result object: ${text.slice(0, 200)}`, res.status);
        return (json as { result: T }).result;
      }
      const code = err?.code ?? `HTTP_${res.status}`;
      if ((RETRYABLE.has(code) || res.status === 503 || res.status === 429) && attempt < this.maxRetries) {
        await new Promise((r) => setTimeout(r, this.retryBaseMs * 2 ** attempt));
        continue;
      }
      if ((code === "expired_token" || code === "EXPIRED_TOKEN") && !refreshed && (await this.refresh())) {
        refreshed = true;
        continue;
      }
      throw new PortalError(method, code, err?.description ?? "", res.status);
    }
  }

  /**
   * All items of a list method, page by page (50 per page), in id order: the
   * list pages say that without `order` nothing is sorted, so pages of an
   * unsorted list could skip or repeat items.
   */
  async list(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>[]> {
    const all: Record<string, unknown>[] = [];
    let previous = "";
    for (let page = 1; page <= MAX_PAGES; page++) {
      const items = itemsOf(await this.call<unknown>(method, { order: { id: "ASC" }, ...params, page }));
      // A portal that ignores `page` answers the first page again: stop rather than loop.
      const first = JSON.stringify(items[0] ?? null);
      if (page > 1 && first === previous) return all;
      previous = first;
      all.push(...items);
      if (items.length < PAGE_SIZE) return all;
    }
    throw new PortalError(method, "TOO_MANY_ITEMS", `more than ${MAX_PAGES * PAGE_SIZE} items`, 200);
  }

  private async refresh(): Promise<boolean> {
    const a = this.auth;
    if (a.kind !== "oauth" || !a.refreshToken || !a.clientId || !a.clientSecret) return false;
    const url = new URL("/oauth/token/", a.oauthServer ?? "https://oauth.bitrix.info");
    url.search = new URLSearchParams({
      grant_type: "refresh_token",
      client_id: a.clientId,
      client_secret: a.clientSecret,
      refresh_token: a.refreshToken,
    }).toString();
    const res = await this.fetchFn(url.href);
    const json = (await res.json().catch(() => null)) as { access_token?: string; refresh_token?: string } | null;
    if (!res.ok || !json?.access_token) {
      throw new PortalError(
        "oauth/token",
        "REFRESH_FAILED",
        "the refresh token was refused; get new tokens from the local application",
        res.status,
      );
    }
    this.auth = { ...a, accessToken: json.access_token, refreshToken: json.refresh_token ?? a.refreshToken };
    this.options.onRefresh?.({ accessToken: json.access_token, refreshToken: json.refresh_token ?? a.refreshToken! });
    return true;
  }
}
