// Where the app page takes the frame's values from and where it loads the
// BX24 library from (routes/app/frame.ts, routes/app/html.ts): pure functions
// of the request and the configuration.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Env, readConfig } from "../../src/config/config";
import { frameFields } from "../../src/routes/app/frame";
import { bx24Script, securityHeaders } from "../../src/routes/app/html";

const configFor = (portalUrl: string) =>
  readConfig({ DATA: env.DATA, PORTAL_URL: portalUrl, BITRIX_CLIENT_ID: "local.6751a3c2e4b7f1.48291735" } as Env);
const scriptSrc = (portalUrl: string) => /script-src ([^;]*)/.exec(securityHeaders(configFor(portalUrl))["content-security-policy"])![1];

describe("frameFields", () => {
  it("takes DOMAIN, PROTOCOL, LANG and APP_SID from the query string first, then the body; every other value only from the body", () => {
    const query = new URLSearchParams({ DOMAIN: "a.bitrix24.com", LANG: "en", AUTH_ID: "from-the-url", APPLICATION_TOKEN: "from-the-url" });
    const body = { DOMAIN: "b.bitrix24.com", LANG: "ru", PROTOCOL: "1", APP_SID: "s1", AUTH_ID: "t1", member_id: "m1" };
    expect(frameFields(query, body)).toEqual({
      DOMAIN: "a.bitrix24.com",
      LANG: "en",
      PROTOCOL: "1",
      APP_SID: "s1",
      AUTH_ID: "t1",
      member_id: "m1",
    });
    expect(frameFields(new URLSearchParams(), body)).toEqual(body);
  });
});

describe("the BX24 library", () => {
  it("comes from api.bitrix24.com for a real portal; the CSP allows its two hosts and nothing else", () => {
    for (const portal of [
      "https://example.bitrix24.com",
      "https://portal.example.ru",
      "https://127.0.0.1.example.com",
      "https://10.0.0.5",
    ]) {
      expect([portal, bx24Script(configFor(portal))]).toEqual([portal, "//api.bitrix24.com/api/v1/"]);
      expect([portal, scriptSrc(portal)]).toEqual([portal, "'self' api.bitrix24.com api.bitrix24.tech"]);
    }
  });

  it("comes from a loopback portal itself (npm run portal), which the CSP then names", () => {
    for (const portal of ["http://127.0.0.1:8790", "http://localhost:3000", "http://[::1]:8790"]) {
      expect(bx24Script(configFor(portal))).toBe(`${portal}/api/v1/`);
      expect(scriptSrc(portal)).toBe(`'self' api.bitrix24.com api.bitrix24.tech ${portal}`);
    }
  });

  it("without a portal setting: Bitrix24's hosts only", () => {
    expect(bx24Script(null)).toBe("//api.bitrix24.com/api/v1/");
    expect(/script-src ([^;]*)/.exec(securityHeaders(null)["content-security-policy"])![1]).toBe(
      "'self' api.bitrix24.com api.bitrix24.tech",
    );
  });
});
