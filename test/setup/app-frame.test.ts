// POST /app and the install page as the portal's frame and as an attacker
// would send them, over HTTP (no browser): what is verified, what is
// answered, which headers, what is recorded.
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LocalPortal } from "../../scripts/local-portal/portal";
import { freePort, startWorker } from "./worker";

let portal: LocalPortal;
let worker: { mf: Miniflare; url: string; bucket: R2Bucket };
let host: string;

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
const open = (params: Record<string, string>, path = "/app", query: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  fetch(`${worker.url}${path}${Object.keys(query).length ? `?${form(query)}` : ""}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: form(params),
  });
/** The current frame form: the four context values in the URL, the rest (with APPLICATION_TOKEN) in the body. */
const current = (token: string, query: Record<string, string> = {}, extra: Record<string, string> = {}, path = "/app") =>
  open(
    {
      AUTH_ID: token,
      AUTH_EXPIRES: "3600",
      REFRESH_ID: "r",
      SERVER_ENDPOINT: "https://oauth.bitrix.info/rest/",
      APPLICATION_TOKEN: "ec1b2074a9d3f5c81b6e40d27a95cf38",
      APPLICATION_SCOPE: "biconnector",
      member_id: "member-1",
      status: "L",
      PLACEMENT: "DEFAULT",
      ...extra,
    },
    path,
    { DOMAIN: host, PROTOCOL: "0", LANG: "en", APP_SID: "s", ...query },
  );
const recorded = async () => {
  const o = await worker.bucket.get(".app/installation.json");
  return o ? JSON.parse(await o.text()) : null;
};
const frame = (token: string, extra: Record<string, string> = {}) => ({
  AUTH_ID: token,
  REFRESH_ID: "r",
  AUTH_EXPIRES: "3600",
  member_id: "member-1",
  DOMAIN: host,
  PROTOCOL: "1",
  LANG: "en",
  APP_SID: "s",
  PLACEMENT: "DEFAULT",
  ...extra,
});
const bootOf = (html: string) => JSON.parse(/<script type="application\/json" id="boot">(.*?)<\/script>/s.exec(html)![1]);

beforeAll(async () => {
  portal = new LocalPortal();
  await portal.start();
  host = new URL(portal.origin).host;
  const port = await freePort();
  worker = await startWorker(
    {
      CONNECTOR_TOKEN: "frame-token",
      PORTAL_URL: portal.origin,
      BITRIX_CLIENT_ID: LocalPortal.APP_CODE,
      WORKER_URL: `http://127.0.0.1:${port}`,
    },
    port,
  );
});
afterAll(async () => {
  await worker.mf.dispose();
  await portal.stop();
});
beforeEach(async () => {
  portal.reset();
  for (const o of (await worker.bucket.list()).objects) await worker.bucket.delete(o.key);
  await worker.bucket.put("sales.csv", "id,amount\n1,2.5\n");
});

describe("POST /app", () => {
  it("an administrator of our app gets the page: strict CSP framed by PORTAL_URL only, no inline script, a session in the boot data", async () => {
    const res = await open(frame("good-access"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe(
      `default-src 'none'; script-src 'self' api.bitrix24.com api.bitrix24.tech ${portal.origin}; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors ${portal.origin}`,
    );
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    // Every script is a file from the Worker or BX24; the one inline block is JSON, which is never executed.
    expect([...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1].trim())).toEqual([
      // PORTAL_URL is a loopback address: the local portal serves the library (a real portal's page loads //api.bitrix24.com/api/v1/).
      `src="${portal.origin}/api/v1/"`,
      expect.stringMatching(/^type="module" src="\/app\/app\.js\?v=[0-9a-f]{12}"$/),
      'type="application/json" id="boot"',
    ]);
    const boot = bootOf(html);
    expect(boot).toEqual({
      lang: "en",
      session: expect.stringMatching(/^v1\./),
      expires: expect.any(Number),
      portal: portal.origin,
      member: "member-1",
      accept: ".csv,.tsv,.json,.ndjson,.jsonl,.xlsx,.xlsm,.gz",
    });
    expect(html).not.toContain("good-access"); // the token only travels sealed inside the session
    expect(portal.calls).toEqual(["app.info", "user.admin"]);
  });

  it("another portal's DOMAIN is refused without calling the portal; a non-admin and another app after app.info / user.admin", async () => {
    for (const [params, calls] of [
      [frame("good-access", { DOMAIN: "evil.example.com" }), []],
      [frame("other-app-access"), ["app.info"]],
      [frame("non-admin-access"), ["app.info", "user.admin"]],
      [{ LANG: "ru" }, []],
    ] as const) {
      portal.calls = [];
      const res = await open(params);
      expect(res.status).toBe(403);
      const html = await res.text();
      expect(html).toContain("<h1>");
      for (const secret of ["sales", "amount", "boot", "x-app-session"]) expect(html.toLowerCase()).not.toContain(secret);
      expect(portal.calls).toEqual(calls);
    }
  });

  it("registers on the first install only; one without its source does not tell the page to finish the installation", async () => {
    portal.installed = false;
    const first = bootOf(await (await open(frame("good-access"))).text());
    expect(first.install).toEqual({
      failed: false,
      lines: expect.arrayContaining([
        {
          object: "table sales",
          outcome: "created",
          detail: "2 fields",
          table: "sales",
          changes: { added: ["ID", "AMOUNT"], removed: [], retyped: [] },
        },
      ]),
    });
    // The portal still says not installed (the page did not call installFinish): the next open registers again, idempotently.
    const second = bootOf(await (await open(frame("good-access"))).text());
    expect(second.install.lines.every((l: { outcome: string }) => l.outcome === "unchanged")).toBe(true);
    expect(portal.connectors).toHaveLength(1);
    portal.installed = true;
    portal.calls = [];
    expect(bootOf(await (await open(frame("good-access"))).text()).install).toBeUndefined();
    expect(portal.calls).toEqual(["app.info", "user.admin"]);

    // A file that cannot be described is reported and skipped; the connector, the source and the other
    // datasets are registered, so the installation is finished (the page offers that table's dataset later).
    await worker.bucket.put("broken.csv", 'a,b\n1,"never closed\n');
    portal.installed = false;
    portal.rest.reset();
    const partial = bootOf(await (await open(frame("good-access"))).text());
    expect(partial.install.failed).toBe(false);
    expect(partial.install.lines.find((l: { object: string }) => l.object === "table broken")).toMatchObject({
      outcome: "failed",
      table: "broken",
      detail: expect.stringContaining("CSV record 2"),
    });
    expect(portal.datasets.map((d) => d.name)).toEqual(["sales"]);

    // Without the source (the Worker's /check refused by the portal) the installation is not finished.
    portal.installed = false;
    portal.rest.reset();
    portal.checkFails = true;
    try {
      const noSource = bootOf(await (await open(frame("good-access"))).text());
      expect(noSource.install.failed).toBe(true);
      expect(noSource.install.lines.find((l: { object: string }) => l.object === "source")).toMatchObject({
        outcome: "failed",
        detail: expect.stringContaining("the Worker rejected the token"),
      });
    } finally {
      portal.checkFails = false;
    }
  });

  it("reads DOMAIN, LANG from the URL's query string before the body: another portal's DOMAIN there is refused without calling the portal", async () => {
    portal.calls = [];
    const res = await current("good-access", { DOMAIN: "evil.example.com" }, { DOMAIN: host });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("<h1>This application is for the portal&#39;s administrators</h1>");
    expect(portal.calls).toEqual([]);

    // The portal's LANG, not the browser's: in the URL it wins over the body and over Accept-Language.
    for (const [query, body, acceptLanguage, lang] of [
      [{ LANG: "ru" }, { LANG: "en" }, "en-GB,en", "ru"],
      [{ LANG: "en" }, { LANG: "ru" }, "ru-RU,ru", "en"],
      [{}, { LANG: "ru" }, "en-GB,en", "ru"],
    ] as const) {
      const html = await (await open(frame("good-access", body), "/app", query, { "accept-language": acceptLanguage })).text();
      expect([query, body, bootOf(html).lang, /<html lang="(\w+)">/.exec(html)![1]]).toEqual([query, body, lang, lang]);
    }
    // A refusal speaks it too, even for a body that cannot be read.
    const refused = await open({ AUTH_ID: "garbage" }, "/app", { LANG: "ru", DOMAIN: host }, { "accept-language": "en" });
    expect(await refused.text()).toContain("<h1>Это приложение доступно только администраторам портала</h1>");
    const unreadable = await fetch(`${worker.url}/app?LANG=ru`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "accept-language": "en" },
      body: "a[__proto__]=1",
    });
    expect(await unreadable.text()).toContain('<html lang="ru">');
  });

  it("records the install frame's APPLICATION_TOKEN on the first verified install only, and never replaces it", async () => {
    // Not verified (a non-admin), or not the first install: nothing recorded.
    portal.installed = false;
    expect((await current("non-admin-access", {}, {}, "/install")).status).toBe(403);
    portal.installed = true;
    expect((await current("good-access")).status).toBe(200);
    expect(await recorded()).toBeNull();

    portal.installed = false;
    expect(bootOf(await (await current("good-access", {}, {}, "/install")).text()).install.failed).toBe(false);
    expect(await recorded()).toEqual({
      applicationToken: "ec1b2074a9d3f5c81b6e40d27a95cf38",
      memberId: "member-1",
      installedAt: expect.any(String),
    });
    // Still not finished (no installFinish): the next open registers again, and keeps the first record.
    expect((await current("good-access", {}, { APPLICATION_TOKEN: "0123456789abcdef0123456789abcdef" })).status).toBe(200);
    expect((await recorded()).applicationToken).toBe("ec1b2074a9d3f5c81b6e40d27a95cf38");

    // The install event of another installation is then refused before the portal is asked; this one's is accepted.
    const event = (applicationToken: string) =>
      fetch(`${worker.url}/install`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form({
          event: "ONAPPINSTALL",
          "auth[access_token]": "good-access",
          "auth[domain]": host,
          "auth[application_token]": applicationToken,
          "auth[member_id]": "member-1",
        }),
      });
    portal.calls = [];
    expect((await event("0123456789abcdef0123456789abcdef")).status).toBe(403);
    expect(portal.calls).toEqual([]);
    expect((await event("ec1b2074a9d3f5c81b6e40d27a95cf38")).status).toBe(200);
  });

  it("a malformed APPLICATION_TOKEN is not recorded", async () => {
    portal.installed = false;
    expect((await current("good-access", {}, { APPLICATION_TOKEN: "<script>" })).status).toBe(200);
    expect(await recorded()).toBeNull();
  });
});
