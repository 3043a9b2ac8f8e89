// The four endpoints with the portal's real (PHP-encoded) bodies: transport,
// auth, routing, errors, table list/description and the data answer.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { call, clearBucket, errorOf, formRequest, phpBody, post, postJson, put, TOKEN, table, URL_TABLE_COUNT } from "../helpers";

const SALES = 'id,name,amount,day\n1,"Smith, J",10.50,2024-01-31\n2,Ann,,31.01.2024\n3,"Say ""hi""",7,2024-02-01\n';

beforeEach(async () => {
  await clearBucket();
  await put("sales.csv", SALES);
});

describe("transport and auth", () => {
  it("answers /check with 200 and a non-empty body for a good token, in either encoding", async () => {
    const form = await post("/check");
    expect(form.status).toBe(200);
    expect(await form.json()).toMatchObject({ ok: true });
    const json = await postJson("/check", { connection: { token: TOKEN } });
    expect(json.status).toBe(200);
  });

  it.each([
    [{}, 401, "TOKEN_MISSING"],
    [{ token: "" }, 401, "TOKEN_MISSING"],
    [{ token: "wrong" }, 403, "TOKEN_INVALID"],
    [{ token: "test-token-but-longer" }, 403, "TOKEN_INVALID"],
  ])("rejects connection %j", async (connection, status, code) => {
    for (const path of ["/check", "/table_list", "/table_description", "/data"]) {
      const res = await post(path, { connection, table: "sales" });
      expect(await errorOf(res)).toMatchObject({ status, code });
    }
  });

  it("accepts every token of a rotation list", async () => {
    expect((await post("/check", { connection: { token: "old-token" } })).status).toBe(200);
  });

  it("refuses to serve anything but GET / when no token is configured", async () => {
    const noToken = { ...env, CONNECTOR_TOKEN: "" };
    const ctx = { waitUntil() {}, passThroughOnException() {} } as unknown as ExecutionContext;
    const body = await phpBody({ connection: { token: "anything" }, table: "sales" });
    for (const path of ["/check", "/table_list", "/table_description", "/data"]) {
      const res = await worker.fetch(formRequest(path, body), noToken, ctx);
      const err = await errorOf(res);
      expect(err).toMatchObject({ status: 503, code: "TOKEN_NOT_CONFIGURED" });
      expect(err.message).toContain("wrangler secret put CONNECTOR_TOKEN");
    }
    const status = await worker.fetch(new Request("https://c.test/"), noToken, ctx);
    expect(await status.json()).toMatchObject({ tokenConfigured: false });
  });

  it("answers GET / with a status document and no data or secrets", async () => {
    const res = await call(new Request("https://c.test/"));
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ name: "bitrix24-bi-files-connector", tokenConfigured: true });
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain("Smith");
  });

  it.each([
    ["GET", "/data", 405, "METHOD_NOT_ALLOWED"],
    ["PUT", "/check", 405, "METHOD_NOT_ALLOWED"],
    ["POST", "/", 405, "METHOD_NOT_ALLOWED"],
    ["POST", "/nope", 404, "NOT_FOUND"],
    ["GET", "/data/x", 404, "NOT_FOUND"],
  ])("%s %s → %i", async (method, path, status, code) => {
    const res = await call(new Request(`https://c.test${path}`, { method, body: method === "GET" ? undefined : "x=1" }));
    expect(await errorOf(res)).toMatchObject({ status, code });
  });

  it("refuses bodies over 1 MiB, even without a Content-Length", async () => {
    const big = "connection%5Btoken%5D=test-token&x=" + "a".repeat(1024 * 1024);
    expect(await errorOf(await call(formRequest("/check", big)))).toMatchObject({ status: 413, code: "BODY_TOO_LARGE" });
    const stream = new Blob([big]).stream();
    const res = await call(
      new Request("https://c.test/check", {
        method: "POST",
        body: stream,
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
    );
    expect(await errorOf(res)).toMatchObject({ status: 413, code: "BODY_TOO_LARGE" });
  });

  it.each([
    ["application/json", "{not json", "BODY_INVALID"],
    ["application/json", "[1,2]", "BODY_INVALID"],
    ["application/x-www-form-urlencoded", "connection%5Btoken%5D=test-token&limit=abc&table=sales", "REQUEST_INVALID"],
    ["application/x-www-form-urlencoded", "connection%5Btoken%5D=test-token&limit=-1&table=sales", "REQUEST_INVALID"],
    ["application/x-www-form-urlencoded", "connection%5Btoken%5D=test-token", "REQUEST_INVALID"],
  ])("rejects a bad %s body %s", async (type, body, code) => {
    const res = await call(new Request("https://c.test/data", { method: "POST", body, headers: { "content-type": type } }));
    expect(await errorOf(res)).toMatchObject({ status: 400, code });
  });
});

describe("table list", () => {
  beforeEach(async () => {
    await put("Отчёты/Продажи 2024.csv", "a\n1\n");
    await put("plan.tsv.gz", "a\n1\n");
    await put("sales.csv.schema.json", "{}");
    await put("notes.txt", "not a table");
    await put(".versions/sales.csv/1", "a\n1\n");
  });

  it("lists tables with codes that are valid portal names", async () => {
    const res = await post("/table_list");
    const list = (await res.json()) as { code: string; title: string }[];
    expect(list.filter((t) => !t.code.startsWith("remote_"))).toEqual([
      { code: "otchety_prodazhi_2024", title: "Отчёты / Продажи 2024" },
      { code: "plan", title: "plan" },
      { code: "sales", title: "sales" },
    ]);
    for (const t of list) expect(t.code).toMatch(/^[a-z][a-z0-9_]*$/);
  });

  it.each([
    ["", 3 + URL_TABLE_COUNT],
    ["SAL", 2],
    ["продажи", 1],
    ["remote", URL_TABLE_COUNT],
    ["zzz", 0],
  ])("searchString %j finds %i tables", async (searchString, n) => {
    const res = await post("/table_list", { searchString });
    expect(((await res.json()) as unknown[]).length).toBe(n);
  });

  it("pages through thousands of objects", async () => {
    const keys = Array.from({ length: 2100 }, (_, i) => `bulk/t${String(i).padStart(4, "0")}.csv`);
    for (let i = 0; i < keys.length; i += 100) await Promise.all(keys.slice(i, i + 100).map((k) => put(k, "a\n1\n")));
    const list = (await (await post("/table_list", { searchString: "bulk" })).json()) as { code: string }[];
    expect(list.length).toBe(2100);
    expect(list[2099].code).toBe("bulk_t2099");
  });
});

describe("table description", () => {
  it("describes by `table` and by the older `name` parameter", async () => {
    const expected = [
      { code: "ID", name: "id", type: "int" },
      { code: "NAME", name: "name", type: "string" },
      { code: "AMOUNT", name: "amount", type: "double" },
      { code: "DAY", name: "day", type: "date" },
    ];
    expect(await (await post("/table_description", { table: "sales" })).json()).toEqual(expected);
    expect(await (await post("/table_description", { name: "SALES" })).json()).toEqual(expected);
  });

  it("answers 404 for an unknown table", async () => {
    const err = await errorOf(await post("/table_description", { table: "nope" }));
    expect(err).toMatchObject({ status: 404, code: "TABLE_NOT_FOUND" });
    expect(err.message).toContain('"nope"');
  });

  it("reads only a bounded prefix of a large file", async () => {
    // 3 MB: a full read would find the text in the last row; the sample must not.
    const rows = Array.from({ length: 150_000 }, (_, i) => `${i},${i * 2}`);
    await put("big.csv", `a,b\n${rows.join("\n")}\nlast,x\n`);
    expect(await (await post("/table_description", { table: "big" })).json()).toEqual([
      { code: "A", name: "a", type: "int" },
      { code: "B", name: "b", type: "int" },
    ]);
  });
});

describe("data", () => {
  it("returns all rows for limit 0 or no limit, typed per column", async () => {
    const all = [
      ["ID", "NAME", "AMOUNT", "DAY"],
      [1, "Smith, J", 10.5, "2024-01-31"],
      [2, "Ann", null, "2024-01-31"],
      [3, 'Say "hi"', 7, "2024-02-01"],
    ];
    expect(await table(await post("/data", { table: "sales", limit: 0 }))).toEqual(all);
    expect(await table(await post("/data", { table: "sales" }))).toEqual(all);
    expect(await table(await postJson("/data", { table: "sales", connection: { token: TOKEN } }))).toEqual(all);
  });

  it("projects select in its order, resolving codes, header text and mapFields", async () => {
    const res = await post("/data", { table: "sales", select: ["day", "ID", "Name"], limit: 2 });
    expect(await table(res)).toEqual([
      ["day", "ID", "Name"], // the select names exactly as requested
      ["2024-01-31", 1, "Smith, J"],
      ["2024-01-31", 2, "Ann"],
    ]);
    const mapped = await post("/data", { table: "sales", select: ["SUM_FIELD", "ID"], mapFields: { AMOUNT: "SUM_FIELD" }, limit: 1 });
    expect(await table(mapped)).toEqual([
      ["SUM_FIELD", "ID"],
      [10.5, 1],
    ]);
  });

  it("answers 400 naming an unknown selected field", async () => {
    const err = await errorOf(await post("/data", { table: "sales", select: ["ID", "PRICE"] }));
    expect(err).toMatchObject({ status: 400, code: "FIELD_UNKNOWN" });
    expect(err.message).toContain('"PRICE"');
    expect(err.message).toContain("ID, NAME, AMOUNT, DAY");
  });

  it("accepts a select of 200 fields and the portal's preview call", async () => {
    const headers = Array.from({ length: 200 }, (_, i) => `col ${i}`);
    await put("wide.csv", `${headers.join(",")}\n${headers.map((_, i) => i).join(",")}\n`);
    const select = headers.map((h) => h.replace(" ", "_").toUpperCase()).reverse();
    const res = await table(await post("/data", { table: "wide", select }));
    expect(res[0]).toEqual(select);
    expect(res[1]).toEqual(headers.map((_, i) => 199 - i));
    const preview = await table(await post("/data", { table: "wide", limit: 20 }));
    expect(preview.length).toBe(2);
  });

  it("answers 404 for an unknown table", async () => {
    expect(await errorOf(await post("/data", { table: "missing" }))).toMatchObject({ status: 404, code: "TABLE_NOT_FOUND" });
  });
});

describe("table listing", () => {
  it("jumps over the .versions/ range instead of paging through it", async () => {
    const { listTables } = await import("../../src/catalog/catalog");
    const { readConfig } = await import("../../src/config/config");
    const versions = Array.from({ length: 2500 }, (_, i) => `.versions/sales.csv/${String(i).padStart(5, "0")}`);
    for (let i = 0; i < versions.length; i += 250) await Promise.all(versions.slice(i, i + 250).map((k) => put(k, "a\n1\n")));
    await put("-first.csv", "a\n1\n");
    await put("zz/last.csv", "a\n1\n");
    let limits: (number | undefined)[] = [];
    const bucket = new Proxy(env.DATA, {
      get: (target, prop) =>
        prop === "list" ? (o: R2ListOptions) => (limits.push(o.limit), target.list(o)) : Reflect.get(target, prop).bind(target),
    });
    const tables = await listTables({ ...env, DATA: bucket }, readConfig(env));
    expect(tables.filter((t) => t.source.kind === "r2").map((t) => t.code)).toEqual(["first", "sales", "zz_last"]);
    // One key to see what comes first, one page up to the dot range, one after it: not 3+ pages of versions.
    expect(limits).toEqual([1, 1000, 1000]);
    // Nothing sorts before the dot range (the usual bucket): its first key says so, and no page of dot keys is read.
    await env.DATA.delete("-first.csv");
    limits = [];
    const again = await listTables({ ...env, DATA: bucket }, readConfig(env));
    expect(again.filter((t) => t.source.kind === "r2").map((t) => t.code)).toEqual(["sales", "zz_last"]);
    expect(limits).toEqual([1, 1000]);
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
