// POST /install as an attacker and as the portal would send it: every request
// is verified with the (fake) portal before anything is registered or shown.
import { request as httpRequest } from "node:http";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { LocalPortal } from "../../scripts/local-portal/portal";
import { freePort, startWorker } from "./worker";

const TOKEN = "install-connector-token";
let portal: LocalPortal;
let installer: { mf: Miniflare; url: string; bucket: R2Bucket };
let host: string;
let WORKER_URL: string;

const BIC = /^biconnector\./;
const form = (params: Record<string, string>) =>
  Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");

function post(body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${installer.url}/install`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
    ...(typeof body === "string" ? {} : { duplex: "half" }),
  } as RequestInit);
}

const event = (accessToken: string, extra: Record<string, string> = {}) =>
  form({
    event: "ONAPPINSTALL",
    "data[VERSION]": "1",
    "auth[access_token]": accessToken,
    "auth[domain]": host,
    "auth[application_token]": "app-token-1",
    "auth[member_id]": "m1",
    ...extra,
  });

/** Nothing in the answer may name a table, a file or a column. */
function revealsNothing(text: string): void {
  for (const secret of ["sales", "SALES", "AMOUNT", "amount", "stock", TOKEN]) expect(text).not.toContain(secret);
}

beforeAll(async () => {
  portal = new LocalPortal();
  await portal.start();
  host = new URL(portal.origin).host;
  // The Worker's configured address is its real loopback one, so the portal's urlCheck call reaches it.
  const port = await freePort();
  WORKER_URL = `http://127.0.0.1:${port}`;
  installer = await startWorker(
    { CONNECTOR_TOKEN: TOKEN, PORTAL_URL: portal.origin, BITRIX_CLIENT_ID: LocalPortal.APP_CODE, WORKER_URL },
    port,
  );
});
afterAll(async () => {
  await installer.mf.dispose();
  await portal.stop();
});
beforeEach(async () => {
  portal.reset();
  const listed = await installer.bucket.list();
  for (const o of listed.objects) await installer.bucket.delete(o.key);
  await installer.bucket.put("sales.csv", "id,amount\n1,2.5\n");
});

describe("POST /install refuses what the portal does not confirm", () => {
  it("another application's token: app.info names another app, nothing is registered or revealed", async () => {
    const res = await post(event("other-app-access"));
    const text = await res.text();
    expect(res.status).toBe(403);
    expect(JSON.parse(text).error.code).toBe("PORTAL_AUTH_FAILED");
    revealsNothing(text);
    expect(portal.calls).toEqual(["app.info"]);
    expect(portal.connectors).toEqual([]);
    expect(portal.sources).toEqual([]);
  });

  it("a non-admin of our application: refused after user.admin", async () => {
    const res = await post(form({ AUTH_ID: "non-admin-access", DOMAIN: host }));
    expect(res.status).toBe(403);
    revealsNothing(await res.text());
    expect(portal.calls).toEqual(["app.info", "user.admin"]);
    expect(portal.calls.filter((c) => BIC.test(c))).toEqual([]);
  });

  it("a garbage token: a generic 403, no failing tables or columns listed", async () => {
    const res = await post(event("garbage"));
    const text = await res.text();
    expect(res.status).toBe(403);
    revealsNothing(text);
    expect(portal.calls).toEqual(["app.info"]);
  });

  it("no token, another portal's domain, or an unknown event: refused without calling the portal", async () => {
    for (const body of [
      form({ event: "ONAPPINSTALL", "auth[domain]": host }),
      form({ AUTH_ID: "good-access", DOMAIN: "evil.example.com" }),
      event("good-access", { event: "ONAPPUNINSTALL" }),
    ]) {
      const res = await post(body);
      expect(res.status).toBe(403);
      revealsNothing(await res.text());
    }
    expect(portal.calls.filter((c) => c !== "app.info")).toEqual([]);
    expect(portal.connectors).toEqual([]);
  });

  it("a malformed form (DOMAIN[]=x) is a 400, not a 500 (the install page answers HTML)", async () => {
    const res = await post("DOMAIN%5B%5D=x&AUTH_ID=good-access");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toContain("DOMAIN");
    expect(portal.calls).toEqual([]);
  });

  it("a 3 MiB body without Content-Length is cut at the 1 MiB cap: 413, nothing called", async () => {
    // Within what the Worker drains before answering (DRAIN_MAX_BYTES), so the answer always arrives.
    const chunk = new TextEncoder().encode(`AUTH_ID=good-access&x=${"a".repeat(1024 * 1024)}`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent >= 3 * 1024 * 1024) return c.close();
        sent += chunk.byteLength;
        c.enqueue(chunk);
      },
    });
    const res = await post(body);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("BODY_TOO_LARGE");
    expect(portal.calls).toEqual([]);
  });

  it("an 80 MB body: the Worker stops reading long before its end, calls nothing, and stays up", async () => {
    // Past the drain bound the Worker hangs up on the rest of the body; whether the sender reads the
    // 413 before the kernel's reset is a race of the two TCP stacks (curl usually does), so the answer
    // is checked when it arrived, and what is certain is checked always.
    const url = new URL(`${installer.url}/install`);
    const chunk = Buffer.from(`AUTH_ID=good-access&x=${"a".repeat(64 * 1024)}`);
    let sent = 0;
    const outcome = await new Promise<{ status?: number; text?: string; reset?: boolean }>((resolve) => {
      let answered = false;
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        },
        (r) => {
          answered = true;
          let text = "";
          r.on("data", (d) => (text += d));
          r.on("end", () => resolve({ status: r.statusCode, text }));
          r.on("error", () => resolve({ status: r.statusCode, text }));
        },
      );
      req.on("error", () => {
        if (!answered) resolve({ reset: true });
      });
      const pump = () => {
        while (!answered && sent < 80 * 1024 * 1024) {
          sent += chunk.byteLength;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        if (!answered) req.end();
      };
      pump();
    });
    if (!outcome.reset) {
      expect(outcome.status).toBe(413);
      expect(JSON.parse(outcome.text ?? "").error.code).toBe("BODY_TOO_LARGE");
    }
    expect(sent).toBeLessThan(16 * 1024 * 1024); // the Worker stopped reading long before 80 MB
    expect(portal.calls).toEqual([]);
    const next = await post(form({ AUTH_ID: "garbage", DOMAIN: host }));
    expect(next.status).toBe(403);
  });
});

describe("POST /install for our administrator", () => {
  it("registers with WORKER_URL's addresses, whatever Host the request carried", async () => {
    const body = event("good-access");
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const url = new URL(`${installer.url}/install`);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          headers: {
            host: "evil.example.com",
            "content-type": "application/x-www-form-urlencoded",
            "content-length": Buffer.byteLength(body),
          },
        },
        (r) => {
          let text = "";
          r.on("data", (d) => (text += d));
          r.on("end", () => resolve({ status: r.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ ok: true });
    expect(JSON.parse(res.text).summary).toMatch(/table sales\s+created/);
    expect(portal.calls.slice(0, 2)).toEqual(["app.info", "user.admin"]);
    expect(portal.connectors[0].urlCheck).toBe(`${WORKER_URL}/check`);
    expect(portal.connectors[0].urlData).toBe(`${WORKER_URL}/data`);
  });

  it("records the install event's application token and refuses a later event with another one", async () => {
    expect((await post(event("good-access"))).status).toBe(200);
    const record = await installer.bucket.get(".app/installation.json");
    expect(JSON.parse(await record!.text())).toMatchObject({ applicationToken: "app-token-1", memberId: "m1" });
    portal.calls = [];
    const forged = await post(event("good-access", { "auth[application_token]": "forged" }));
    expect(forged.status).toBe(403);
    expect(portal.calls).toEqual([]); // refused before any portal call
    const missing = await post(form({ event: "ONAPPINSTALL", "auth[access_token]": "good-access", "auth[domain]": host }));
    expect(missing.status).toBe(403);
    const again = await post(event("good-access"));
    expect(again.status).toBe(200);
    expect(((await again.json()) as { summary: string }).summary).toContain("Nothing changed");
  });

  it("the install page (AUTH_ID form) registers on the first install only (app.info INSTALLED false)", async () => {
    portal.installed = false;
    try {
      const page = await post(form({ AUTH_ID: "good-access", DOMAIN: host }));
      const html = await page.text();
      // The page script calls BX24.installFinish() when the boot data carries a successful install.
      expect(html).toMatch(/"install":\{"lines":\[.*"failed":false\}/);
      expect(portal.calls.slice(0, 2)).toEqual(["app.info", "user.admin"]);
      expect(portal.connectors).toHaveLength(1);
    } finally {
      portal.installed = true;
    }
    portal.calls = [];
    const again = await post(form({ AUTH_ID: "good-access", DOMAIN: host }));
    expect(again.status).toBe(200);
    expect(await again.text()).not.toContain('"install"');
    expect(portal.calls).toEqual(["app.info", "user.admin"]);
  });
});

describe("POST /install configuration", () => {
  it("PORTAL_URL without a scheme, or no BITRIX_CLIENT_ID: a page naming the variable, never its value", async () => {
    for (const [bindings, variable] of [
      [{ PORTAL_URL: "zq-hidden.bitrix24.com", BITRIX_CLIENT_ID: "local.x.1" }, "PORTAL_URL"],
      [{ PORTAL_URL: portal.origin }, "BITRIX_CLIENT_ID"],
      [{ PORTAL_URL: portal.origin, BITRIX_CLIENT_ID: "local.x.1", URL_TABLES: '[{"code": zq-hidden-json' }, "URL_TABLES"],
    ] as const) {
      const w = await startWorker({ CONNECTOR_TOKEN: TOKEN, WORKER_URL, ...bindings });
      try {
        const res = await fetch(`${w.url}/install`, { method: "POST", body: form({ AUTH_ID: "good-access" }) });
        const text = await res.text();
        // The install page is HTML: a readable page naming the variable.
        expect(res.status).toBeGreaterThanOrEqual(500);
        expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
        expect(text).toContain(variable);
        expect(text).not.toContain("zq-hidden");
      } finally {
        await w.mf.dispose();
      }
    }
    expect(portal.calls).toEqual([]);
  });
});
