/**
 * A fake Bitrix24 portal on loopback: the biconnector.* methods the setup
 * uses, with the validation rules and error codes of the biconnector REST docs
 * (README, "Connecting a portal"), the synchronous urlCheck call into the real
 * Worker on source.add/update,
 * rate-limit answers, expired tokens and an OAuth refresh endpoint.
 *
 * For the app page (issue 13) it also plays the portal's browser side: GET
 * /frame opens the app as the portal does (a form POST into an iframe with
 * AUTH_ID, REFRESH_ID, AUTH_EXPIRES, member_id, DOMAIN, PROTOCOL, LANG,
 * APP_SID, PLACEMENT), /api/v1/ is a BX24 library stub that talks to that
 * page by postMessage (init, installFinish, refreshAuth), and app.info's
 * INSTALLED turns true when the page calls BX24.installFinish().
 */
import { createServer, type Server } from "node:http";
import { parse as parseForm } from "qs";
import { doc, documentedResult } from "./docs";
import { serveBrowserSide } from "./frame";
import { type Generation, PortalRest, RestFailure } from "./rest";

type Item = Record<string, any>;

/** A documented answer that is not a REST `{result}` (the OAuth server's). */
const documentedResultOf = (method: string): Item => structuredClone(doc(method).response!.body);

export interface LocalPortalOptions {
  /** Which portal to be (rest.ts): "current" (default) or "older". */
  generation?: Generation;
  /** Every n-th REST call answers 503 QUERY_LIMIT_EXCEEDED. */
  rateLimitEvery?: number;
  /** The first call with this token answers 401 expired_token. */
  expiredToken?: string;
}

export class LocalPortal {
  readonly rest: PortalRest;
  get connectors(): Item[] {
    return this.rest.connectors;
  }
  get sources(): Item[] {
    return this.rest.sources;
  }
  get datasets(): Item[] {
    return this.rest.datasets;
  }
  calls: string[] = [];
  refreshes = 0;
  validTokens = new Set(["good-access", "other-app-access", "non-admin-access"]);
  /** Which application each token belongs to (app.info CODE), and whether its user is an admin. */
  static readonly APP_CODE = "local.ours.12345678";
  tokenApps = new Map<string, { app: string; admin: boolean }>([
    ["other-app-access", { app: "local.other.87654321", admin: true }],
    ["non-admin-access", { app: LocalPortal.APP_CODE, admin: false }],
  ]);
  /** app.info's INSTALLED: false until the install page calls BX24.installFinish(). */
  installed = true;
  installFinishCalls = 0;
  /** Tokens the portal answers `expired_token` for (an access token's hour is over). */
  expiredTokens = new Set<string>();
  /** The portal's urlCheck call fails (as when it cannot reach the Worker). */
  checkFails = false;

  /** Back to an empty, installed portal (between tests): nothing registered, no calls, no expired tokens. */
  reset(): void {
    this.rest.reset();
    this.calls = [];
    this.installed = true;
    this.installFinishCalls = 0;
    this.expiredTokens.clear();
    this.checkFails = false;
  }
  private server?: Server;
  origin = "";

  constructor(private readonly options: LocalPortalOptions = {}) {
    this.rest = new PortalRest(options.generation ?? "current");
  }

  /** Listens on loopback, on `port` (0: a free one); resolves to the origin. */
  async start(port = 0): Promise<string> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const url = new URL(req.url ?? "/", "http://x");
      const send = (status: number, body: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (url.pathname === "/oauth/token/") {
        this.refreshes++;
        if (url.searchParams.get("refresh_token") !== "good-refresh") return send(400, { error: "invalid_grant" });
        this.validTokens.add("refreshed-access");
        return send(200, this.oauthAnswer("refreshed-access", "good-refresh-2"));
      }
      if (serveBrowserSide(this, req, res, url)) return;
      const m = /^\/rest\/([\w.]+?)(?:\.json)?$/.exec(url.pathname);
      if (!m) return send(404, { error: "NOT_FOUND" });
      return this.restCall(m[1], Buffer.concat(chunks).toString("utf8"), String(req.headers["content-type"] ?? ""), send);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, "127.0.0.1", resolve);
    });
    const a = this.server.address() as { port: number };
    this.origin = `http://127.0.0.1:${a.port}`;
    return this.origin;
  }

  stop(): Promise<void> {
    // A browser's kept-alive connections would hold close() open.
    this.server?.closeAllConnections();
    return new Promise((r) => this.server?.close(() => r()) ?? r());
  }

  /**
   * One REST call: JSON or a PHP form body (both are what portals take), the
   * token checked, then the method; its failure answered where this
   * generation puts it (rest.ts).
   */
  private async restCall(method: string, text: string, contentType: string, send: (status: number, body: unknown) => void): Promise<void> {
    let params: Item;
    try {
      params = contentType.includes("json")
        ? (JSON.parse(text || "{}") as Item)
        : (parseForm(text, { depth: 8, arrayLimit: 1000 }) as Item);
    } catch {
      return send(400, { error: "INVALID_REQUEST", error_description: "the body is not JSON" });
    }
    this.calls.push(method);
    if (this.options.rateLimitEvery && this.calls.length % this.options.rateLimitEvery === 0) {
      return send(503, { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" });
    }
    if (this.expiredTokens.has(params.auth))
      return send(401, { error: "expired_token", error_description: "The access token provided has expired." });
    if (params.auth === this.options.expiredToken) {
      this.validTokens.delete(params.auth);
      return send(401, { error: "expired_token", error_description: "The access token provided has expired." });
    }
    if (!this.validTokens.has(params.auth)) return send(401, { error: "NO_AUTH_FOUND", error_description: "Wrong authorization data" });
    try {
      send(200, { result: await this.call(method, params), time: this.time() });
    } catch (err) {
      if (!(err instanceof RestFailure)) throw err;
      const error = { error: err.code, error_description: err.description };
      if (err.system || this.rest.generation === "older") send(err.status, error);
      else send(200, { result: { error } });
    }
  }

  /** The OAuth server's refresh answer (settings/oauth/auto-renewal.md), for this portal. */
  private oauthAnswer(accessToken: string, refreshToken: string): Item {
    const documented = documentedResultOf("oauth.token");
    return {
      ...documented,
      access_token: accessToken,
      refresh_token: refreshToken,
      client_endpoint: `${this.origin}/rest/`,
      expires: Math.floor(Date.now() / 1000) + 3600,
      member_id: "member-1",
    };
  }

  private time(): Item {
    const t = Date.now() / 1000;
    const iso = new Date().toISOString().slice(0, 19) + "+00:00";
    return { start: t, finish: t, duration: 0, processing: 0, date_start: iso, date_finish: iso };
  }

  private async call(method: string, p: Item): Promise<unknown> {
    const who = this.tokenApps.get(p.auth) ?? { app: LocalPortal.APP_CODE, admin: true };
    switch (method) {
      case "app.info":
        return { ...documentedResult("app.info"), CODE: who.app, INSTALLED: this.installed };
      case "user.admin":
        return who.admin;
      default:
        return this.rest.handle(method, p, (connector, settings, failure) => this.check(connector, settings, failure));
    }
  }

  /** The portal's synchronous urlCheck call on source.add/update: `connection[code]=value`, as PHP encodes it. */
  private async check(connector: Item, settings: Record<string, string>, failure = "SOURCE_CREATE_CONNECTION_ERROR"): Promise<void> {
    const body = Object.entries(settings)
      .map(([k, v]) => `connection%5B${encodeURIComponent(k)}%5D=${encodeURIComponent(v).replace(/%20/g, "+")}`)
      .join("&");
    let ok = false;
    if (!this.checkFails) {
      try {
        const res = await fetch(connector.urlCheck, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body,
          redirect: "manual",
        });
        const text = await res.text();
        ok = res.status === 200 && text !== "" && text !== "0";
      } catch {}
    }
    if (!ok) throw new RestFailure(failure, "Connection check failed", 200);
  }
}
