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
import { serveBrowserSide } from "./frame";

type Item = Record<string, any>;

export interface LocalPortalOptions {
  /** Newer portals know table.* and accept supportMapping/sourceCode. */
  modern?: boolean;
  /** Every n-th REST call answers 503 QUERY_LIMIT_EXCEEDED. */
  rateLimitEvery?: number;
  /** The first call with this token answers 401 expired_token. */
  expiredToken?: string;
}

const NAME_RE = /^[a-z][a-z0-9_]*$/;
const FIELD_RE = /^[A-Z][A-Z0-9_]*$/;
const TYPES = ["int", "string", "double", "date", "datetime", "money", "timezone"];

export class LocalPortal {
  connectors: Item[] = [];
  sources: Item[] = [];
  datasets: Item[] = [];
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
    this.connectors = [];
    this.sources = [];
    this.datasets = [];
    this.calls = [];
    this.installed = true;
    this.installFinishCalls = 0;
    this.expiredTokens.clear();
    this.checkFails = false;
  }
  private freshTokens = 0;
  private nextId = 1;
  private server?: Server;
  origin = "";

  constructor(private readonly options: LocalPortalOptions = {}) {}

  async start(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const url = new URL(req.url ?? "/", "http://x");
      const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (url.pathname === "/oauth/token/") {
        this.refreshes++;
        if (url.searchParams.get("refresh_token") !== "good-refresh") return send(400, { error: "invalid_grant" });
        this.validTokens.add("refreshed-access");
        return send(200, { access_token: "refreshed-access", refresh_token: "good-refresh-2", expires_in: 3600 });
      }
      if (serveBrowserSide(this, req, res, url)) return;
      const m = /^\/rest\/([\w.]+)\.json$/.exec(url.pathname);
      if (!m) return send(404, { error: "NOT_FOUND" });
      const method = m[1];
      const params = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Item;
      this.calls.push(method);
      if (this.options.rateLimitEvery && this.calls.length % this.options.rateLimitEvery === 0) {
        return send(503, { error: "QUERY_LIMIT_EXCEEDED", error_description: "Too many requests" });
      }
      if (this.expiredTokens.has(params.auth)) return send(401, { error: "expired_token", error_description: "The access token provided has expired." });
      if (params.auth === this.options.expiredToken) {
        this.validTokens.delete(params.auth);
        return send(401, { error: "expired_token", error_description: "The access token provided has expired." });
      }
      if (!this.validTokens.has(params.auth)) return send(401, { error: "invalid_token", error_description: "Unable to authorize" });
      try {
        const result = await this.handle(method, params);
        send(200, { result });
      } catch (err) {
        const e = err as { code: string; message: string; status?: number };
        // Bitrix puts most errors in an HTTP 200 body; some methods nest them in result.
        if (e.status) send(e.status, { error: e.code, error_description: e.message });
        else if (method.startsWith("biconnector.source")) send(200, { result: { error: { error: e.code, error_description: e.message } } });
        else send(200, { error: e.code, error_description: e.message });
      }
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    const a = this.server.address() as { port: number };
    this.origin = `http://127.0.0.1:${a.port}`;
    return this.origin;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server?.close(() => r()) ?? r());
  }

  private fail(code: string, message = "", status?: number): never {
    throw Object.assign(new Error(message), { code, status });
  }

  private page(items: Item[], params: Item): Item[] {
    const page = Number(params.page ?? 1);
    return items.slice((page - 1) * 50, page * 50);
  }

  private connectorFields(): string[] {
    const base = ["title", "logo", "description", "sort", "urlCheck", "urlTableList", "urlTableDescription", "urlData", "settings"];
    return this.options.modern ? [...base, "supportMapping", "sourceCode"] : base;
  }

  private async check(connectorId: number, settings: Item): Promise<void> {
    const c = this.connectors.find((x) => x.id === connectorId) ?? this.fail("CONNECTOR_NOT_FOUND");
    const body = Object.entries(settings).map(([k, v]) => `connection%5B${encodeURIComponent(k)}%5D=${encodeURIComponent(String(v)).replace(/%20/g, "+")}`).join("&");
    let ok = false;
    if (this.checkFails) this.fail("SOURCE_CREATE_CONNECTION_ERROR", "Connection check failed");
    try {
      const res = await fetch(c.urlCheck, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body, redirect: "manual" });
      const text = await res.text();
      ok = res.status === 200 && text !== "" && text !== "0";
    } catch {}
    if (!ok) this.fail("SOURCE_CREATE_CONNECTION_ERROR", "Connection check failed");
  }

  private validateDataset(f: Item): void {
    if (!NAME_RE.test(f.name ?? "")) this.fail("VALIDATION_DATASET_NAME_INVALID", "Dataset name is invalid");
    if (this.datasets.some((d) => d.name === f.name)) this.fail("DATASET_ALREADY_EXIST", "Dataset already exists");
    if (!this.sources.some((s) => s.id === f.sourceId)) this.fail("SOURCE_NOT_FOUND");
    this.validateFields(f.fields ?? [], []);
  }

  private validateFields(fields: Item[], existing: Item[]): void {
    const names = new Set(existing.map((x) => x.name));
    const codes = new Set(existing.map((x) => x.externalCode));
    for (const x of fields) {
      if (!FIELD_RE.test(x.name)) this.fail("VALIDATION_FIELD_NAME_INVALID_FORMAT");
      if (x.name.length > 32) this.fail("VALIDATION_FIELD_NAME_TOO_LONG");
      if (names.has(x.name)) this.fail("VALIDATION_DUPLICATE_FIELD_NAME");
      if (codes.has(x.externalCode)) this.fail("VALIDATION_DUPLICATE_FIELD_CODE");
      if (!TYPES.includes(x.type)) this.fail("VALIDATION_FIELD_INVALID_TYPE");
      names.add(x.name);
      codes.add(x.externalCode);
    }
  }

  private async handle(method: string, p: Item): Promise<unknown> {
    const isTable = method.startsWith("biconnector.table.");
    if (isTable && !this.options.modern) this.fail("ERROR_METHOD_NOT_FOUND", "Method not found!", 404);
    const who = this.tokenApps.get(p.auth) ?? { app: LocalPortal.APP_CODE, admin: true };
    switch (method) {
      case "app.info":
        return { ID: "7", CODE: who.app, VERSION: 1, STATUS: "L", INSTALLED: this.installed, PAYMENT_EXPIRED: "N", DAYS: null, LICENSE: "en_project" };
      case "user.admin":
        return who.admin;
      case "biconnector.connector.fields":
        return { fields: Object.fromEntries(this.connectorFields().map((k) => [k, { type: "string" }])) };
      case "biconnector.connector.list":
        return this.page(this.connectors, p);
      case "biconnector.connector.add":
      case "biconnector.connector.update": {
        const f = p.fields ?? {};
        const unknown = Object.keys(f).filter((k) => !this.connectorFields().includes(k));
        if (unknown.length) this.fail("VALIDATION_UNKNOWN_PARAMETERS", `Unknown parameters: ${unknown.join(", ")}`);
        for (const s of f.settings ?? []) if (s.type !== "STRING" && s.type !== "INT") this.fail("VALIDATION_INVALID_SETTING_TYPE");
        if (method.endsWith("add")) {
          for (const k of ["title", "logo", "urlCheck", "urlTableList", "urlTableDescription", "urlData", "settings"]) if (!f[k]) this.fail("VALIDATION_REQUIRED_FIELD_MISSING", k);
          const c = { id: this.nextId++, ...f };
          this.connectors.push(c);
          return { id: c.id };
        }
        const c = this.connectors.find((x) => x.id === p.id) ?? this.fail("CONNECTOR_NOT_FOUND");
        Object.assign(c, f);
        return true;
      }
      case "biconnector.source.list":
        return this.page(this.sources.filter((s) => !p.filter?.connectorId || s.connectorId === p.filter.connectorId), p);
      case "biconnector.source.add": {
        const f = p.fields ?? {};
        if (typeof f.active !== "boolean") this.fail("VALIDATION_INVALID_FIELD_TYPE", "active must be boolean");
        await this.check(f.connectorId, f.settings ?? {});
        const s = { id: this.nextId++, ...f };
        this.sources.push(s);
        return { id: s.id };
      }
      case "biconnector.source.update": {
        const s = this.sources.find((x) => x.id === p.id) ?? this.fail("SOURCE_NOT_FOUND");
        if (p.fields.settings) await this.check(s.connectorId, p.fields.settings);
        Object.assign(s, p.fields);
        return true;
      }
      case "biconnector.table.list":
      case "biconnector.dataset.list":
        return this.page(this.datasets.filter((d) => !p.filter?.sourceId || d.sourceId === p.filter.sourceId), p);
      case "biconnector.table.add":
      case "biconnector.dataset.add": {
        const f = p.fields ?? {};
        this.validateDataset(f);
        const d = { id: this.nextId++, ...f, fields: f.fields.map((x: Item) => ({ id: this.nextId++, ...x, visible: true })) };
        this.datasets.push(d);
        return { id: d.id };
      }
      case "biconnector.table.get":
      case "biconnector.dataset.get":
        return this.datasets.find((d) => d.id === p.id) ?? this.fail("DATASET_NOT_FOUND");
      case "biconnector.table.delete":
      case "biconnector.dataset.delete":
        this.datasets = this.datasets.filter((d) => d.id !== p.id);
        return true;
      case "biconnector.dataset.fields.update": {
        const d = this.datasets.find((x) => x.id === p.id) ?? this.fail("DATASET_NOT_FOUND");
        const del = new Set<number>(p.delete ?? []);
        d.fields = d.fields.filter((x: Item) => !del.has(x.id));
        this.validateFields(p.add ?? [], d.fields);
        d.fields.push(...(p.add ?? []).map((x: Item) => ({ id: this.nextId++, ...x, visible: true })));
        return true;
      }
      default:
        this.fail("ERROR_METHOD_NOT_FOUND", "Method not found!", 404);
    }
  }
}

