// URL tables (allowlist, redirects, failures, time limit) and streaming
// behaviour observed from the serving side: a limit stops the read, and the
// first bytes leave before the file is read through.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { hostAllowed } from "../../src/source/url";
import { errorOf, formRequest, phpBody, post, TOKEN, table } from "../helpers";

const helper = (env as unknown as { HELPER_ORIGIN: string }).HELPER_ORIGIN;
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const rows = async (code: string) => table(await post("/data", { table: code }));
const stats = async (id: string) =>
  (await fetch(`${helper}/stats/${id}`)).json() as Promise<{ bytes: number; closed: boolean; done: boolean } | null>;
const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
};

describe("URL tables", () => {
  it("serves a declared URL table, also through an allowed redirect", async () => {
    const expected = [
      ["ID", "AMOUNT", "DAY"],
      [1, 10.5, "2024-01-31"],
      [2, 20, "2024-02-01"],
    ];
    expect(await table(await post("/data", { table: "remote_sales" }))).toEqual(expected);
    expect(await table(await post("/data", { table: "remote_redirect" }))).toEqual(expected);
  });

  it("applies an inline declared schema", async () => {
    expect(await (await post("/table_description", { table: "remote_typed" })).json()).toEqual([
      { code: "ID", name: "id", type: "int" },
      { code: "AMOUNT", name: "amount", type: "string" },
      { code: "DAY", name: "day", type: "date" },
    ]);
  });

  it.each([
    ["remote_escape", 403, "URL_HOST_NOT_ALLOWED", "example.com"],
    ["remote_broken", 502, "URL_UNAVAILABLE", "HTTP 500"],
    ["remote_slow", 504, "URL_TIMEOUT", "1000 ms"],
  ])("%s → %i %s, naming the table", async (code, status, errorCode, detail) => {
    for (const path of ["/table_description", "/data"]) {
      const err = await errorOf(await post(path, { table: code }));
      expect(err).toMatchObject({ status, code: errorCode });
      expect(err.message).toContain(`Table "${code}"`);
      expect(err.message).toContain(detail);
    }
  });
});

describe("streaming", () => {
  it("stops reading the source once `limit` rows are sent", async () => {
    const t = await table(await post("/data", { table: "remote_endless", limit: 5 }));
    expect(t).toEqual([
      ["N", "S"],
      [0, "row 0"],
      [1, "row 1"],
      [2, "row 2"],
      [3, "row 3"],
      [4, "row 4"],
    ]);
    await until(async () => (await stats("limit"))?.closed === true);
    const s = await stats("limit");
    expect(s).toMatchObject({ closed: true, done: false });
    expect(s!.bytes).toBeLessThan(16 * 1024 * 1024); // of a 1 GB file
  });

  it("sends the first rows before the file is read through", async () => {
    const res = await post("/data", { table: "remote_endless_2" });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = "";
    for (let i = 0; i < 1000 && !text.includes('"row 1"'); i++) text += new TextDecoder().decode((await reader.read()).value);
    expect(text.startsWith('[["N","S"],[0,"row 0"]')).toBe(true);
    expect(await stats("first-bytes")).toMatchObject({ closed: false, done: false });
    await reader.cancel();
    await until(async () => (await stats("first-bytes"))?.closed === true);
    expect(await stats("first-bytes")).toMatchObject({ closed: true, done: false });
  });
});

describe("URL_ALLOWED_HOSTS: an entry without a port allows the scheme's default port only", () => {
  it.each([
    ["a.com", "https://a.com/x.csv", true],
    ["a.com", "http://a.com/x.csv", true],
    ["a.com", "https://a.com:443/x.csv", true],
    ["a.com", "https://a.com:8443/x.csv", false],
    ["a.com", "http://a.com:443/x.csv", false],
    ["a.com", "http://a.com:6379/", false],
    ["a.com:443", "https://a.com/x.csv", true],
    ["a.com:80", "http://a.com/x.csv", true],
    ["a.com:80", "https://a.com/x.csv", false],
    ["a.com:8443", "https://a.com:8443/x.csv", true],
    ["a.com:8443", "https://a.com/x.csv", false],
    ["[::1]:8080", "http://[::1]:8080/x.csv", true],
    ["[::1]", "http://[::1]:8080/x.csv", false],
  ])("%s allows %s: %s", (entry, url, allowed) => {
    expect(hostAllowed(new URL(url), new Set([entry]))).toBe(allowed);
  });

  const origin = env.HELPER_ORIGIN;
  const helper = new URL(origin);
  const urlData = async (allowedHosts: string, url: string) => {
    const request = formRequest("/data", await phpBody({ table: "u", connection: { token: TOKEN } }));
    const urlTables = JSON.stringify([{ code: "u", title: "U", url, format: "csv" }]);
    return worker.fetch(request, { ...env, URL_ALLOWED_HOSTS: allowedHosts, URL_TABLES: urlTables }, ctx);
  };

  it("the first request: 127.0.0.1 does not allow 127.0.0.1:<port> (403)", async () => {
    const err = await errorOf(await urlData("127.0.0.1", `${origin}/files/remote.csv`));
    expect(err).toEqual({
      status: 403,
      code: "URL_HOST_NOT_ALLOWED",
      message: `Table "u": the host ${helper.host} is not in URL_ALLOWED_HOSTS. Add "${helper.host}" to URL_ALLOWED_HOSTS if you trust it (an entry without a port allows only the scheme's default port).`,
    });
  });

  it("a redirect hop to another port of an allowed host is refused (403)", async () => {
    const elsewhere = `http://127.0.0.1:${Number(helper.port) === 65535 ? 65534 : Number(helper.port) + 1}/x.csv`;
    const start = `${origin}/redirect/${encodeURIComponent(elsewhere)}`;
    // Not a match on the hop's hostname alone (the Worker would connect to that port: 502 here, nothing listens).
    const err = await errorOf(await urlData(`${helper.host}, 127.0.0.1`, start));
    expect(err).toMatchObject({ status: 403, code: "URL_HOST_NOT_ALLOWED" });
    expect(err.message).toBe(
      `Table "u": the host ${new URL(elsewhere).host} is not in URL_ALLOWED_HOSTS (reached by a redirect from ${start}). Add "${new URL(elsewhere).host}" to URL_ALLOWED_HOSTS if you trust it (an entry without a port allows only the scheme's default port).`,
    );
  });

  it("an entry with the port reads the table", async () => {
    expect(await table(await urlData(helper.host, `${origin}/files/remote.csv`))).toEqual(await rows("remote_sales"));
  });
});
