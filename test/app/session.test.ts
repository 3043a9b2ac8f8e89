// The app page's session token and the app's answers, inside workerd.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import {
  issueSession,
  ROOT_CACHE_MS,
  SESSION_HEADER,
  SESSION_KEY_OBJECT,
  SESSION_TTL_SECONDS,
  verifySession,
} from "../../src/auth/session";
import { readConfig } from "../../src/config/config";
import worker from "../../src/index";
import { jsonForHtml } from "../../src/routes/app/html";
import { clearBucket, put } from "../helpers";

const PORTAL = { PORTAL_URL: "https://portal.example", BITRIX_CLIENT_ID: "local.test.1", WORKER_URL: "https://worker.example" };
const appEnv = { ...env, ...PORTAL };
const config = readConfig(appEnv);
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const fetchWith = (request: Request, bindings: Record<string, string> = PORTAL) => worker.fetch(request, { ...env, ...bindings }, ctx);

async function codeOf(res: Response): Promise<{ status: number; code: string }> {
  return { status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code };
}

beforeEach(clearBucket);

describe("the session token", () => {
  it("carries the portal, member and the sealed access token, which never appears in clear", async () => {
    const { token, expires } = await issueSession(appEnv, config.portal!, "secret-access-token", "member-1", Date.UTC(2026, 0, 1));
    expect(expires).toBe(Date.UTC(2026, 0, 1) / 1000 + SESSION_TTL_SECONDS);
    const decoded = token.split(".").map((p) => atob(p.replace(/-/g, "+").replace(/_/g, "/")));
    expect(decoded.join("")).not.toContain("secret-access-token");
    expect(JSON.parse(decoded[1])).toEqual({ host: "portal.example", member: "member-1", exp: expires });
    const session = await verifySession(appEnv, config, token, Date.UTC(2026, 0, 1) + 60_000);
    expect(session).toEqual({ portal: config.portal, member: "member-1", accessToken: "secret-access-token", expires });
    // The root secret lives in the bucket's dot-folder: 32 random bytes.
    expect((await (await env.DATA.get(SESSION_KEY_OBJECT))!.arrayBuffer()).byteLength).toBe(32);
  });

  it("refuses a changed claim, signature or sealed token, another portal's session, and an expired one", async () => {
    const now = Date.UTC(2026, 0, 1);
    const { token } = await issueSession(appEnv, config.portal!, "tok", "m", now);
    const [v, claims, sealed, sig] = token.split(".");
    const forgedClaims = btoa(JSON.stringify({ host: "portal.example", member: "m", exp: 9_999_999_999 })).replace(/=+$/, "");
    const flip = (s: string) => (s[5] === "A" ? `${s.slice(0, 5)}B${s.slice(6)}` : `${s.slice(0, 5)}A${s.slice(6)}`);
    const cases = [
      `${v}.${forgedClaims}.${sealed}.${sig}`,
      `${v}.${claims}.${flip(sealed)}.${sig}`,
      `${v}.${claims}.${sealed}.${flip(sig)}`,
      `${v}.${claims}.${sealed}`,
      `v2.${claims}.${sealed}.${sig}`,
      "garbage",
      "",
    ];
    for (const bad of cases) await expect(verifySession(appEnv, config, bad, now)).rejects.toMatchObject({ code: "SESSION_INVALID" });
    // Keys are bound to PORTAL_URL and BITRIX_CLIENT_ID.
    for (const other of [{ PORTAL_URL: "https://other.example" }, { BITRIX_CLIENT_ID: "local.other.2" }]) {
      await expect(verifySession({ ...appEnv, ...other }, readConfig({ ...appEnv, ...other }), token, now)).rejects.toMatchObject({
        code: "SESSION_INVALID",
      });
    }
    await expect(verifySession(appEnv, config, token, now + SESSION_TTL_SECONDS * 1000)).rejects.toMatchObject({ code: "SESSION_EXPIRED" });
  });
});

describe("the app's API and /files accept the session", () => {
  it("/app/api/* without a session or with a forged one: 401 SESSION_INVALID, with the app's security headers", async () => {
    for (const headers of [{}, { [SESSION_HEADER]: "v1.a.b.c" }] as Record<string, string>[]) {
      const res = await fetchWith(new Request("https://w/app/api/tables", { headers }));
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors https://portal.example");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await codeOf(res)).toEqual({ status: 401, code: "SESSION_INVALID" });
    }
  });

  it("a valid session lists the tables (size, updated; rows once uploaded through the page) and uploads without UPLOAD_TOKEN", async () => {
    await put("sales.csv", "id,amount\n1,2.5\n");
    const { token } = await issueSession(appEnv, config.portal!, "tok", "m");
    const noUploadToken = { ...PORTAL, UPLOAD_TOKEN: "" };
    const body = "id,amount\n1,2.5\n2,3\n3,4\n";
    const up = await fetchWith(
      new Request("https://w/app/api/upload?key=sales.csv", {
        method: "PUT",
        headers: { [SESSION_HEADER]: token, "content-length": String(body.length) },
        body,
      }),
      noUploadToken,
    );
    expect(up.status).toBe(200);
    expect(await up.json()).toMatchObject({ key: "sales.csv", table: "sales", rows: 3 });
    const list = await fetchWith(new Request("https://w/app/api/tables", { headers: { [SESSION_HEADER]: token } }), noUploadToken);
    const { tables } = (await list.json()) as { tables: Record<string, unknown>[] };
    // (The test configuration's URL tables are listed too, with no size or rows.)
    expect(tables.filter((t) => (t.source as { kind: string }).kind === "r2")).toEqual([
      {
        code: "sales",
        title: "sales",
        source: { kind: "r2", key: "sales.csv" },
        size: body.length,
        rows: 3,
        updated: expect.stringMatching(/^\d{4}-/),
      },
    ]);
    // A URL table's address is shown without the credentials it may carry.
    expect(tables.find((t) => t.code === "remote_creds_ok")!.source).toEqual({ kind: "url", url: `${env.HELPER_ORIGIN}/files/remote.csv` });
    expect(JSON.stringify(tables)).not.toContain("s3cret");
    // /files takes the session in place of the bearer token (the page never needs UPLOAD_TOKEN)…
    const files = await fetchWith(
      new Request("https://w/files/sales.csv/versions", { headers: { [SESSION_HEADER]: token } }),
      noUploadToken,
    );
    expect(files.status).toBe(200);
    expect(((await files.json()) as unknown[]).length).toBe(1);
    // …and a bad session is refused as such, never tried as a bearer token.
    const bad = await fetchWith(
      new Request("https://w/files", { headers: { [SESSION_HEADER]: "x", authorization: "Bearer upload-token" } }),
    );
    expect(await codeOf(bad)).toEqual({ status: 401, code: "SESSION_INVALID" });
    const bearer = await fetchWith(new Request("https://w/files", { headers: { authorization: "Bearer upload-token" } }));
    expect(bearer.status).toBe(200);
    await bearer.body?.cancel();
  });
});

describe("GET /app/api/health", () => {
  it("the settings the Worker runs with (never a secret's value), and each URL table whose host is not allowed", async () => {
    const { token } = await issueSession(appEnv, config.portal!, "tok", "m");
    const get = async (bindings: Record<string, string>) =>
      (
        await fetchWith(new Request("https://w/app/api/health", { headers: { [SESSION_HEADER]: token } }), { ...PORTAL, ...bindings })
      ).json() as Promise<{ settings: Record<string, unknown>; problems: { code: string; detail?: string }[] }>;
    const ok = await get({});
    expect(ok.problems).toEqual([]);
    expect(ok.settings).toMatchObject({
      PORTAL_URL: "https://portal.example",
      BITRIX_CLIENT_ID: "local.test.1",
      WORKER_URL: "https://worker.example",
      CONNECTOR_TOKEN: true,
      UPLOAD_TOKEN: true,
      URL_ALLOWED_HOSTS: [new URL(env.HELPER_ORIGIN).host],
      DEFAULT_DATE_FORMAT: "DD.MM.YYYY",
      UPLOAD_KEEP_VERSIONS: 2,
    });
    expect(JSON.stringify(ok)).not.toContain("test-token");
    const closed = await get({ URL_ALLOWED_HOSTS: "" });
    expect(closed.problems[0]).toEqual({ code: "URL_HOST", detail: `remote_sales: ${new URL(env.HELPER_ORIGIN).host}` });
    expect(closed.problems.every((p) => p.code === "URL_HOST")).toBe(true);
  });
});

describe("the app page's HTML answers", () => {
  it("POST /app without the portal settings: a readable page naming each missing setting and how to set it, not JSON", async () => {
    const res = await fetchWith(
      new Request("https://w/app", {
        method: "POST",
        body: "AUTH_ID=x&LANG=en",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
      { PORTAL_URL: "", BITRIX_CLIENT_ID: "", WORKER_URL: "" },
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    // No portal to name: this text-only page may be framed, so the portal's frame shows it.
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors *");
    const html = await res.text();
    expect(html).toContain("<h1>The connector is not set up yet</h1>");
    expect(html).toContain(
      "<li>PORTAL_URL: the portal&#39;s address, set with `npm run deploy -- --set PORTAL_URL=https://example.bitrix24.com` (or `wrangler secret put PORTAL_URL`).</li>",
    );
    expect(html).toContain("<li>BITRIX_CLIENT_ID: ");
    expect(html).toContain("<li>WORKER_URL: ");
    expect(html).not.toContain("<li>CONNECTOR_TOKEN");
  });

  it("in Russian for LANG=ru, and the CONNECTOR_TOKEN missing is named too", async () => {
    const res = await fetchWith(
      new Request("https://w/app", { method: "POST", body: "LANG=ru", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      { ...PORTAL, CONNECTOR_TOKEN: "" },
    );
    const html = await res.text();
    expect(html).toContain("<h1>Коннектор ещё не настроен</h1>");
    expect(html).toContain("<li>CONNECTOR_TOKEN — ");
  });

  it("GET /app says to open it from the portal; the script and style are served with their types", async () => {
    const res = await fetchWith(new Request("https://w/app"));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Open this application from the Bitrix24 portal");
    for (const [path, type] of [
      ["/app/app.js", "text/javascript; charset=utf-8"],
      ["/app/app.css", "text/css; charset=utf-8"],
    ]) {
      const asset = await fetchWith(new Request(`https://w${path}`));
      expect([asset.status, asset.headers.get("content-type"), asset.headers.get("x-content-type-options")]).toEqual([
        200,
        type,
        "nosniff",
      ]);
      await asset.body?.cancel();
    }
  });

  it("boot data cannot close its script block", () => {
    expect(jsonForHtml({ member: "</script><script>alert(1)</script>\u2028&" })).toBe(
      '{"member":"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\\u2028\\u0026"}',
    );
  });
});

// The session root (`.app/session-key`) is re-read after ROOT_CACHE_MS: deleting it (docs/security.md)
// ends every session in warm isolates too, and every isolate signs with the root the bucket holds.
describe("deleting the session key object", () => {
  it("ends a session issued before, in the same (warm) isolate, within ROOT_CACHE_MS", async () => {
    const now = Date.now();
    const { token } = await issueSession(appEnv, config.portal!, "tok", "m", now);
    expect((await verifySession(appEnv, config, token, now + 1000)).accessToken).toBe("tok");
    await env.DATA.delete(SESSION_KEY_OBJECT);
    await expect(verifySession(appEnv, config, token, now + ROOT_CACHE_MS + 1000)).rejects.toMatchObject({ code: "SESSION_INVALID" });
  });

  it("a session signed after it was replaced is one every isolate accepts (signed with the root the bucket holds)", async () => {
    const now = Date.now() + 5 * ROOT_CACHE_MS; // well past the first test's reads
    await issueSession(appEnv, config.portal!, "tok", "m", now); // the isolate reads (makes) the root
    const replaced = crypto.getRandomValues(new Uint8Array(32));
    await env.DATA.put(SESSION_KEY_OBJECT, replaced); // what another isolate makes after a delete
    const later = now + ROOT_CACHE_MS + 1000;
    const { token } = await issueSession(appEnv, config.portal!, "tok2", "m", later);
    // The MAC key another isolate derives from the bucket's root: HKDF exactly as src/auth/session.ts.
    const base = await crypto.subtle.importKey("raw", replaced, "HKDF", false, ["deriveKey"]);
    const enc = new TextEncoder();
    const mac = await crypto.subtle.deriveKey(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: enc.encode("bitrix24-bi-files-connector app session v1"),
        info: enc.encode(`session-mac\n${config.portal!.origin}\n${config.portal!.clientId}`),
      },
      base,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["verify"],
    );
    const [v, claims, sealed, sig] = token.split(".");
    const sigBytes = Uint8Array.from(atob(sig.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    expect(await crypto.subtle.verify("HMAC", mac, sigBytes, enc.encode(`${v}.${claims}.${sealed}`))).toBe(true);
  });
});
