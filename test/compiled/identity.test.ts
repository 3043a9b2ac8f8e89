// A compiled form is served only for the reading it was compiled from: the
// file's version, its sidecar (present or not) and the reader's decisions
// (encoding, sheet, layout). The cron, triggered as the platform triggers it,
// compiles again a table whose reading changed, and compiles a table whose
// upload widened a column once, from the description the Worker serves with.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { compileChanged } from "../../src/compiled/triggers";
import { readConfig } from "../../src/config/config";
import worker from "../../src/index";
import { cp1251 } from "../cp1251";
import { call, clearBucket, errorOf, post } from "../helpers";
import { buildXlsx, typedRows } from "../xlsx-build";

const AUTH = { authorization: "Bearer upload-token" };
const bytesOf = (body: string | Uint8Array) => (typeof body === "string" ? new TextEncoder().encode(body) : body);
const upload = (key: string, body: string | Uint8Array) =>
  call(
    new Request(`https://c.test/files/${key}`, {
      method: "PUT",
      body: bytesOf(body),
      headers: { ...AUTH, "content-length": String(bytesOf(body).byteLength) },
    }),
  );
const remove = (key: string) => call(new Request(`https://c.test/files/${key}`, { method: "DELETE", headers: AUTH }));
const cron = async () =>
  worker.scheduled!({ cron: "*/10 * * * *", scheduledTime: Date.now(), type: "scheduled", noRetry() {} } as ScheduledController, env);

async function answer(params: Record<string, unknown>): Promise<{ form: string; text: string }> {
  const res = await post("/data", params);
  expect(res.status).toBe(200);
  return { form: res.headers.get("x-table-form") ?? "streaming", text: await res.text() };
}

beforeEach(clearBucket);

const FOOT = "name,qty,amount\nA,5,10.25\nB,7,20.50\nTotal,12,30.75\n";
const WITH_TOTAL = '[["NAME","QTY","AMOUNT"],["A",5,10.25],["B",7,20.50],["Total",12,30.75]]';
const WITHOUT_TOTAL = '[["NAME","QTY","AMOUNT"],["A",5,10.25],["B",7,20.50]]';

describe("a compiled form follows the sidecar that shapes the reading", () => {
  it("footerRows: 0 brings the totals row back at once, compiled after the cron; deleting the sidecar drops it again", async () => {
    expect((await upload("foot.csv", FOOT)).status).toBe(201);
    expect(await answer({ table: "foot" })).toEqual({ form: "compiled", text: WITHOUT_TOTAL });

    expect((await upload("foot.csv.schema.json", '{"footerRows":0}')).status).toBe(201);
    expect(await answer({ table: "foot" })).toEqual({ form: "streaming", text: WITH_TOTAL });
    await cron();
    expect(await answer({ table: "foot" })).toEqual({ form: "compiled", text: WITH_TOTAL });

    expect((await remove("foot.csv.schema.json")).status).toBe(200);
    expect(await answer({ table: "foot" })).toEqual({ form: "streaming", text: WITHOUT_TOTAL });
    await cron();
    expect(await answer({ table: "foot" })).toEqual({ form: "compiled", text: WITHOUT_TOTAL });
  });

  it("a sidecar put straight into R2 (and removed there) is followed the same way", async () => {
    expect((await upload("foot.csv", FOOT)).status).toBe(201);
    await env.DATA.put("foot.csv.schema.json", '{"footerRows":0}');
    expect(await answer({ table: "foot" })).toEqual({ form: "streaming", text: WITH_TOTAL });
    await cron();
    expect(await answer({ table: "foot" })).toEqual({ form: "compiled", text: WITH_TOTAL });
    await env.DATA.delete("foot.csv.schema.json");
    expect(await answer({ table: "foot" })).toEqual({ form: "streaming", text: WITHOUT_TOTAL });
    await cron();
    expect(await answer({ table: "foot" })).toEqual({ form: "compiled", text: WITHOUT_TOTAL });
  });

  it("a declared encoding replaces the guessed one (cp1251 bytes declared koi8-r)", async () => {
    const bytes = cp1251("id,city\n1,Москва\n2,Тверь\n");
    expect((await upload("enc.csv", bytes)).status).toBe(201);
    expect(await answer({ table: "enc" })).toEqual({ form: "compiled", text: '[["ID","CITY"],[1,"Москва"],[2,"Тверь"]]' });

    expect((await upload("enc.csv.schema.json", '{"encoding":"koi8-r"}')).status).toBe(201);
    // The same bytes read as KOI8-R.
    const koi8 = '[["ID","CITY"],[1,"лНЯЙБЮ"],[2,"рБЕПЭ"]]';
    expect(await answer({ table: "enc" })).toEqual({ form: "streaming", text: koi8 });
    await cron();
    expect(await answer({ table: "enc" })).toEqual({ form: "compiled", text: koi8 });
  });

  it("a workbook's sheet: the sidecar's sheet is served, not the compiled first sheet", async () => {
    const book = await buildXlsx([
      {
        name: "2024",
        rows: typedRows([
          ["month", "sales"],
          ["1", "100"],
          ["2", "200"],
        ]),
      },
      {
        name: "2025",
        rows: typedRows([
          ["month", "sales"],
          ["1", "150"],
          ["2", "250"],
          ["3", "350"],
        ]),
      },
    ]);
    expect((await upload("book.xlsx", book)).status).toBe(201);
    expect(await answer({ table: "book" })).toEqual({ form: "compiled", text: '[["MONTH","SALES"],[1,100],[2,200]]' });

    await env.DATA.put("book.xlsx.schema.json", '{"sheet":"2025"}');
    const y2025 = '[["MONTH","SALES"],[1,150],[2,250],[3,350]]';
    expect(await answer({ table: "book" })).toEqual({ form: "streaming", text: y2025 });
    await cron();
    expect(await answer({ table: "book" })).toEqual({ form: "compiled", text: y2025 });
  });
});

describe("a workbook's sidecar uploads like any other", () => {
  it("PUT book.xlsx.schema.json {sheet} is checked against the workbook and stored", async () => {
    const book = await buildXlsx([
      {
        name: "2024",
        rows: typedRows([
          ["month", "sales"],
          ["1", "100"],
        ]),
      },
      {
        name: "2025",
        rows: typedRows([
          ["month", "sales"],
          ["1", "150"],
          ["2", "250"],
        ]),
      },
    ]);
    expect((await upload("book.xlsx", book)).status).toBe(201);
    const res = await upload("book.xlsx.schema.json", '{"sheet":"2025"}');
    expect(res.status).toBe(201);
    expect(await answer({ table: "book" })).toEqual({ form: "streaming", text: '[["MONTH","SALES"],[1,150],[2,250]]' });

    const missing = await errorOf(await upload("book.xlsx.schema.json", '{"sheet":"2026"}'));
    expect([missing.status, missing.code]).toEqual([422, "SCHEMA_INVALID"]);
    expect(missing.message).toContain("2026");
  });
});

describe("sidecar suffixes are matched one way everywhere", () => {
  it.each(["cs.csv.Schema.json", "cs.csv.SCHEMA.JSON", "cs.csv.schema.JSON"])("%s is refused, not stored and ignored", async (key) => {
    expect((await upload("cs.csv", "a,b\n1,2\n")).status).toBe(201);
    const res = await errorOf(await upload(key, '{"columns":{"a":{"type":"string"}}}'));
    expect([res.status, res.code]).toEqual([400, "KEY_INVALID"]);
    expect(res.message).toContain("cs.csv.schema.json");
    expect(await env.DATA.head(key)).toBeNull();
  });
});

describe("a table whose upload widened a column", () => {
  // 10,050 rows: the sample (10,000 rows) says int, the whole file says string.
  const rows = Array.from({ length: 10_050 }, (_, i) => `${i + 1},${i === 10_040 ? "n/a" : i}`);
  const WIDE = `id,v\n${rows.join("\n")}\n`;

  it("is compiled once, from the manifest's description, and served compiled", async () => {
    const res = await upload("wide.csv", WIDE);
    expect(res.status).toBe(201);
    expect(((await res.json()) as { widened: { code: string; to: string }[] }).widened.map((w) => [w.code, w.to])).toEqual([
      ["V", "string"],
    ]);
    const filtered = { table: "wide", filter: { ">=ID": "10040", "<=ID": "10042" } };
    expect(await answer(filtered)).toEqual({ form: "compiled", text: '[["ID","V"],[10040,"10039"],[10041,"n/a"],[10042,"10041"]]' });
    // Nothing left for the cron, run after run.
    const config = readConfig(env);
    expect(await compileChanged(env, config)).toEqual([]);
    await cron();
    expect(await compileChanged(env, config)).toEqual([]);
    expect(await answer(filtered)).toEqual({ form: "compiled", text: '[["ID","V"],[10040,"10039"],[10041,"n/a"],[10042,"10041"]]' });
  });

  it("put straight into R2 and uploaded again, it is compiled again from the upload's description", async () => {
    // Other bytes than the test above (another etag): nothing this isolate learned there applies.
    const WIDER = `${WIDE}10051,5\n`;
    await env.DATA.put("wide.csv", WIDER);
    const config = readConfig(env);
    expect((await compileChanged(env, config)).map((d) => [d.code, d.result.status])).toEqual([["wide", "compiled"]]);
    // The sample's reading: v is int, so "n/a" is served as null.
    const filtered = { table: "wide", filter: { ">=ID": "10041", "<=ID": "10041" } };
    expect(await answer(filtered)).toEqual({ form: "compiled", text: '[["ID","V"],[10041,null]]' });
    // The same bytes uploaded: the manifest decides, and the compiled form follows it.
    expect((await upload("wide.csv", WIDER)).status).toBe(200);
    expect(await answer(filtered)).toEqual({ form: "compiled", text: '[["ID","V"],[10041,"n/a"]]' });
    expect(await compileChanged(env, config)).toEqual([]);
  });
});
