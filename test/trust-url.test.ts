// Issue 9 §4 and §5: URL tables never serve wrong numbers (a description
// cached for another format or an older column order, an HTML page, a body
// cut short), and smaller defects (filter keys that vanished, HEAD /, GET /).
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, errorOf, formRequest, phpBody, post, postJson, put, table, TOKEN } from "./helpers";

const helper = (env as unknown as { HELPER_ORIGIN: string }).HELPER_ORIGIN;

beforeAll(async () => {
  await put("p.csv", "ID,NAME\n1,a\n2,b\n");
});

describe("filter keys that used to vanish", () => {
  it.each(["__proto__", "constructor"])("JSON filter key %s is refused, not dropped", async (key) => {
    const err = await errorOf(await postJson("/data", { connection: { token: TOKEN }, table: "p", filter: { [key]: "1" } }));
    expect(err).toMatchObject({ status: 400, code: "FIELD_UNKNOWN" });
    expect(err.message).toContain(`Unknown field "${key}" in filter key filter[${key}]`);
  });

  it("JSON filter key __proto__ parsed as an own property is refused, also inside a group", async () => {
    // JSON.parse makes "__proto__" an own key; it must reach the filter compiler.
    const body = `{"connection":{"token":"${TOKEN}"},"table":"p","filter":{"0":{"LOGIC":"OR","__proto__":{"=ID":"1"}}}}`;
    const res = await call(new Request("https://c.test/data", { method: "POST", headers: { "content-type": "application/json" }, body }));
    expect(await errorOf(res)).toMatchObject({ status: 400, code: "FIELD_UNKNOWN" });
    const top = `{"connection":{"token":"${TOKEN}"},"table":"p","filter":{"__proto__":{"=ID":"1"}}}`;
    const res2 = await call(new Request("https://c.test/data", { method: "POST", headers: { "content-type": "application/json" }, body: top }));
    expect(await errorOf(res2)).toMatchObject({ status: 400, code: "FIELD_UNKNOWN" });
  });

  it.each([
    ["filter%5B__proto__%5D=1", "filter[__proto__]"],
    ["filter%5B0%5D%5B__proto__%5D%5B%3DID%5D=1", "filter[0][__proto__][=ID]"],
    ["filter%5B%5F%5Fproto%5F%5F%5D=1", "filter[__proto__]"],
    ["filter[__proto__][=ID]=1", "filter[__proto__][=ID]"],
  ])("form filter key %s is refused, not dropped", async (raw, shown) => {
    const body = `connection%5Btoken%5D=${TOKEN}&table=p&${raw}`;
    const err = await errorOf(await call(formRequest("/data", body)));
    expect(err).toMatchObject({ status: 400, code: "FILTER_INVALID" });
    expect(err.message).toContain(`"${shown}"`);
  });

  it("form key __proto__ outside the filter is refused as a malformed body", async () => {
    const err = await errorOf(await call(formRequest("/data", `connection%5Btoken%5D=${TOKEN}&table=p&select%5B__proto__%5D=ID`)));
    expect(err).toMatchObject({ status: 400, code: "BODY_INVALID" });
  });

  it("form filter key constructor reaches the compiler and is refused", async () => {
    const err = await errorOf(await post("/data", { table: "p", filter: { constructor: "1" } }));
    expect(err).toMatchObject({ status: 400, code: "FIELD_UNKNOWN" });
  });

  it("a filter on a real field still works in both encodings", async () => {
    expect(await table(await post("/data", { table: "p", filter: { "=ID": "2" } }))).toEqual([["ID", "NAME"], [2, "b"]]);
    expect(await table(await postJson("/data", { connection: { token: TOKEN }, table: "p", filter: { "=ID": "2" } }))).toEqual([["ID", "NAME"], [2, "b"]]);
  });
});

describe("GET / and HEAD /", () => {
  it("HEAD / answers 200 with no body", async () => {
    const res = await call(new Request("https://c.test/", { method: "HEAD" }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it("GET / reveals no table count, names or config values", async () => {
    const res = await call(new Request("https://c.test/"));
    const status = await res.json();
    expect(status).toEqual({
      name: "bitrix24-bi-files-connector",
      version: "0.1.0",
      tokenConfigured: true,
      endpoints: ["POST /check", "POST /table_list", "POST /table_description", "POST /data"],
    });
  });
});
