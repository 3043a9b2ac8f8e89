// Wire fidelity: what the portal's own code sends and reads (docs/reference.md "Endpoints",
// README "Connecting a portal"), with bodies encoded by PHP's http_build_query and
// shaped like its two urlData callers: the dataset preview (limit=20,
// mapFields, no select) and BI Builder reports (NAMEs in select, mapFields
// restricted to them, the dashboard's date range at the top level).
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/config";
import { AppError } from "../../src/errors";
import { COLUMN_TYPES } from "../../src/model";
import { DATE_FORMAT_SETTING_NAME, register, validateTable } from "../../src/register/register";
import type { Portal } from "../../src/register/rest-client";
import { normaliseDateFormat } from "../../src/values/types";
import { call, clearBucket, errorOf, post, put, table } from "../helpers";

// Orders: a date, a datetime, amounts with a decimal point.
const ORDERS = [
  "id,created,customer,paid,amount",
  "1,2024-01-31 10:00:00,Ann,2024-02-01,10.5",
  "2,2024-02-01 00:00:00,Bob,2024-02-02,20",
  "3,2024-02-15 12:30:00,Cid,,7.25",
  "4,2024-02-29 23:59:59,Dan,2024-03-01,1",
  "5,2024-03-01 00:00:00,Eve,2024-03-01,2",
].join("\n");

beforeEach(async () => {
  await clearBucket();
  await put("orders.csv", `${ORDERS}\n`);
});

async function describeTable(code: string): Promise<{ code: string; name: string; type: string }[]> {
  const res = await post("/table_description", { table: code });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text}`);
  return JSON.parse(text);
}

describe("the header echoes the requested names", () => {
  it("answers a renamed field (mapFields[AMOUNT]=SUMMA) under the name that was asked for", async () => {
    // A report: NAMEs in select, mapFields restricted to them, in dataset field order.
    const res = await post("/data", { table: "orders", select: ["SUMMA", "ID"], mapFields: { ID: "ID", AMOUNT: "SUMMA" }, limit: 0 });
    expect(await table(res)).toEqual([
      ["SUMMA", "ID"],
      [10.5, 1],
      [20, 2],
      [7.25, 3],
      [1, 4],
      [2, 5],
    ]);
  });

  it("keeps the requested order, spelling and duplicates, every row as long as the header", async () => {
    const res = await table(
      await post("/data", { table: "orders", select: ["amount", "ID", "SUMMA", "ID"], mapFields: { AMOUNT: "SUMMA" }, limit: 2 }),
    );
    expect(res).toEqual([
      ["amount", "ID", "SUMMA", "ID"],
      [10.5, 1, 10.5, 1],
      [20, 2, 20, 2],
    ]);
  });

  it("follows mapFields when two fields swapped names", async () => {
    const res = await post("/data", {
      table: "orders",
      select: ["CUSTOMER", "ID"],
      mapFields: { ID: "CUSTOMER", CUSTOMER: "ID" },
      limit: 1,
    });
    expect(await table(res)).toEqual([
      ["CUSTOMER", "ID"],
      [1, "Ann"],
    ]);
  });

  it("answers the preview (limit=20, mapFields, no select) with every column code as header", async () => {
    const many = Array.from({ length: 30 }, (_, i) => `${i + 10},2024-01-01 00:00:00,X,2024-01-01,${i}`).join("\n");
    await put("orders.csv", `${ORDERS}\n${many}\n`);
    const mapFields = { ID: "ID", CREATED: "CREATED", CUSTOMER: "CUSTOMER", PAID: "PAID", AMOUNT: "SUMMA" };
    const res = await table(await post("/data", { table: "orders", limit: 20, mapFields }));
    expect(res[0]).toEqual(["ID", "CREATED", "CUSTOMER", "PAID", "AMOUNT"]); // externalCodes: the preview looks cells up by them
    expect(res).toHaveLength(21);
    expect(res[1]).toEqual([1, "2024-01-31 10:00:00", "Ann", "2024-02-01", 10.5]);
    expect(res[3]).toEqual([3, "2024-02-15 12:30:00", "Cid", null, 7.25]);
    for (const row of res) expect(row).toHaveLength(5); // array_combine(header, row) on the portal
  });

  it("explains a renamed field that arrives without mapFields (portals before 25.1150)", async () => {
    const err = await errorOf(await post("/data", { table: "orders", select: ["SUMMA", "ID"], limit: 0 }));
    expect(err).toMatchObject({ status: 400, code: "FIELD_UNKNOWN" });
    expect(err.message).toBe(
      'Unknown field "SUMMA" in select. The table\'s fields are: ID, CREATED, CUSTOMER, PAID, AMOUNT. ' +
        "If it was renamed in the portal (the dataset field's name differs from its column code), the Worker cannot tell which column it is, " +
        "because the portal did not send mapFields: rename the field back to its column code, or update the portal to 25.1150 or later, which sends mapFields.",
    );
  });

  it("says so when mapFields points to a column the file no longer has", async () => {
    const err = await errorOf(await post("/data", { table: "orders", select: ["SUMMA"], mapFields: { TOTAL: "SUMMA" } }));
    expect(err).toMatchObject({ status: 400, code: "FIELD_UNKNOWN" });
    expect(err.message).toContain('mapFields maps it to the column code "TOTAL", which the table does not have');
  });
});

describe("types: only int string double date datetime", () => {
  it("answers a sidecar's money as double and serves numbers", async () => {
    await put("orders.csv.schema.json", JSON.stringify({ columns: { amount: { type: "money" }, id: { type: "double" } } }));
    const cols = await describeTable("orders");
    expect(cols.map((c) => c.type)).toEqual(["double", "datetime", "string", "date", "double"]);
    expect(await table(await post("/data", { table: "orders", select: ["AMOUNT"], limit: 1 }))).toEqual([["AMOUNT"], [10.5]]);
  });

  it("never lists money among the types the Worker answers or registers", async () => {
    expect([...COLUMN_TYPES].sort()).toEqual(["date", "datetime", "double", "int", "string"]);
    expect(validateTable("orders", [{ name: "A", externalCode: "A", type: "money" }])).toBe('field "A" has the unknown type "money"');
  });
});

describe("date_format: /check refuses exactly what /data refuses", () => {
  // Feb 1st in the file; 02/01/2024 is Feb 1st month-first, Jan 2nd day-first.
  const slashFilter = { ">=PAID": "02/01/2024", "<=PAID": "02/01/2024" };

  it.each([
    "DD.MM.YYYY",
    "ДД.ММ.ГГГГ",
    "дд.мм.гггг",
    "d.m.Y",
    "",
    "MM/DD/YYYY",
    "ММ/ДД/ГГГГ",
    "m/d/Y",
    "dd/mm/yyyy",
    "ДД/ММ/ГГГГ",
    "d/m/Y",
    "YYYY-MM-DD",
    "ГГГГ-ММ-ДД",
    "Y-m-d",
  ])("accepts %j at /check and reads filter dates by it at /data", async (format) => {
    const connection = { token: "test-token", date_format: format };
    const check = await post("/check", { connection });
    expect(check.status).toBe(200);
    expect(await check.json()).toMatchObject({ ok: true });
    const rows = await table(await post("/data", { connection, table: "orders", select: ["ID"], filter: slashFilter, limit: 0 }));
    const dayFirst = normaliseDateFormat(format) === "DD/MM/YYYY";
    // month-first: 1 Feb 2024 → order 1; day-first: 2 Jan 2024 → none.
    expect(rows).toEqual(dayFirst ? [["ID"]] : [["ID"], [1]]);
  });

  it.each(["YYYY.DD.MM", "DD-MM-YYYY", "dd.mm.yy", "31.01.2024", "auto"])(
    "refuses %j at /check and at /data with the same message",
    async (format) => {
      const connection = { token: "test-token", date_format: format };
      const check = await errorOf(await post("/check", { connection }));
      const data = await errorOf(await post("/data", { connection, table: "orders", limit: 20 }));
      expect(check).toEqual(data);
      expect(check).toMatchObject({ status: 400, code: "REQUEST_INVALID" });
      expect(check.message).toBe(
        `The source setting date_format "${format}" is not a date format the connector knows. Use one of: ` +
          "DD.MM.YYYY (also ДД.ММ.ГГГГ, d.m.Y), MM/DD/YYYY (ММ/ДД/ГГГГ, m/d/Y), DD/MM/YYYY (ДД/ММ/ГГГГ, d/m/Y), YYYY-MM-DD (ГГГГ-ММ-ДД, Y-m-d), in any letter case; " +
          "or leave it empty for the Worker's default.",
      );
    },
  );

  it("reads DEFAULT_DATE_FORMAT with the same normaliser", () => {
    expect(readConfig({ ...env, DEFAULT_DATE_FORMAT: "ДД/ММ/ГГГГ" }).defaultDateFormat).toBe("DD/MM/YYYY");
    expect(readConfig({ ...env, DEFAULT_DATE_FORMAT: "" }).defaultDateFormat).toBe("DD.MM.YYYY");
    expect(() => readConfig({ ...env, DEFAULT_DATE_FORMAT: "YYYY.DD.MM" })).toThrow(AppError);
  });

  it("shows the accepted values in the connector setting's name, each of them accepted", () => {
    const named = DATE_FORMAT_SETTING_NAME.match(/[A-ZА-Я]{2,4}[./-][A-ZА-Я]{2,4}[./-][A-ZА-Я]{2,4}/g) ?? [];
    expect(named).toEqual(["DD.MM.YYYY", "ДД.ММ.ГГГГ", "MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD"]);
    for (const f of named) expect(normaliseDateFormat(f)).not.toBeNull();
  });
});

describe("the dashboard's date column (sidecar dateColumn)", () => {
  it("answers the declared date column as the first date/datetime one, everything else in file order", async () => {
    expect((await describeTable("orders")).map((c) => c.code)).toEqual(["ID", "CREATED", "CUSTOMER", "PAID", "AMOUNT"]);
    await put("orders.csv.schema.json", JSON.stringify({ dateColumn: "paid" }));
    expect(await describeTable("orders")).toEqual([
      { code: "ID", name: "id", type: "int" },
      { code: "PAID", name: "paid", type: "date" },
      { code: "CREATED", name: "created", type: "datetime" },
      { code: "CUSTOMER", name: "customer", type: "string" },
      { code: "AMOUNT", name: "amount", type: "double" },
    ]);
    // Data keeps working by name; the preview's header stays in file order (cells are looked up by code).
    expect(await table(await post("/data", { table: "orders", select: ["PAID", "CREATED"], limit: 1 }))).toEqual([
      ["PAID", "CREATED"],
      ["2024-02-01", "2024-01-31 10:00:00"],
    ]);
    expect((await table(await post("/data", { table: "orders", limit: 1 })))[0]).toEqual(["ID", "CREATED", "CUSTOMER", "PAID", "AMOUNT"]);
  });

  it("accepts the column's code and leaves the order alone when it already is the first date column", async () => {
    await put("orders.csv.schema.json", JSON.stringify({ dateColumn: "CREATED" }));
    expect((await describeTable("orders")).map((c) => c.code)).toEqual(["ID", "CREATED", "CUSTOMER", "PAID", "AMOUNT"]);
  });

  it.each([
    [
      "customer",
      'dateColumn: "customer" is a string column, but it must be a date or datetime one (declare its type in columns if inference got it wrong)',
    ],
    ["shipped", 'dateColumn: "shipped" is not a column of the file (its columns are: id, created, customer, paid, amount)'],
  ])("refuses dateColumn %j with 422 SCHEMA_INVALID", async (dateColumn, detail) => {
    await put("orders.csv.schema.json", JSON.stringify({ dateColumn }));
    const err = await errorOf(await post("/table_description", { table: "orders" }));
    expect(err).toEqual({
      status: 422,
      code: "SCHEMA_INVALID",
      message: `The declared schema in "orders.csv.schema.json" is invalid: ${detail}. Fix or delete it.`,
    });
  });
});

describe("tables that cannot be described", () => {
  it("leaves empty objects out of /table_list; a malformed file stays listed and its description says why", async () => {
    await put("empty.csv", "");
    await put("broken.csv", 'a,b\n1,"never closed\n');
    const list = (await (await post("/table_list")).json()) as { code: string }[];
    const codes = list.map((t) => t.code);
    expect(codes).toContain("orders");
    expect(codes).toContain("broken");
    expect(codes).not.toContain("empty");
    expect(await errorOf(await post("/table_description", { table: "empty" }))).toMatchObject({ status: 404, code: "TABLE_NOT_FOUND" });
    const broken = await errorOf(await post("/table_description", { table: "broken" }));
    expect(broken).toMatchObject({ status: 422, code: "CSV_MALFORMED" });
    expect(broken.message).toContain("record 2");
    // The operator still sees the empty file among the uploads.
    const files = (await (
      await call(new Request("https://c.test/files", { headers: { authorization: "Bearer upload-token" } }))
    ).json()) as { key: string; table: string | null }[];
    expect(files.find((f) => f.key === "empty.csv")).toMatchObject({ key: "empty.csv", table: null, size: 0 });
  });
});

describe("reports with the dashboard's date range", () => {
  // The portal puts the range on the first date/datetime field; before 26.250
  // the start is a date only, from 26.250 date and time; the end always has a time.
  it.each([
    ["01.02.2024", "29.02.2024 23:59:59"],
    ["01.02.2024 00:00:00", "29.02.2024 23:59:59"],
  ])("filters a datetime column from %j to %j", async (start, end) => {
    const body = {
      select: ["ID", "CREATED", "SUMMA"],
      filter: { ">=CREATED": start, "<=CREATED": end, 0: { LOGIC: "OR", 0: { "=CUSTOMER": ["Bob", "Cid", "Dan", "Eve"] } } },
      limit: 0,
      table: "orders",
      connection: { token: "test-token", date_format: "DD.MM.YYYY" },
      mapFields: { ID: "ID", CREATED: "CREATED", AMOUNT: "SUMMA" },
    };
    expect(await table(await post("/data", body))).toEqual([
      ["ID", "CREATED", "SUMMA"],
      [2, "2024-02-01 00:00:00", 20],
      [3, "2024-02-15 12:30:00", 7.25],
      [4, "2024-02-29 23:59:59", 1],
    ]);
  });

  it.each([
    ["01.02.2024", "29.02.2024 23:59:59"],
    ["01.02.2024 00:00:00", "29.02.2024 23:59:59"],
  ])("filters a date column (the declared dateColumn) from %j to %j", async (start, end) => {
    await put("orders.csv.schema.json", JSON.stringify({ dateColumn: "paid" }));
    const body = {
      select: ["PAID", "ID"],
      filter: { ">=PAID": start, "<=PAID": end },
      limit: 0,
      table: "orders",
      connection: { token: "test-token", date_format: "ДД.ММ.ГГГГ" },
      mapFields: { PAID: "PAID", ID: "ID" },
    };
    expect(await table(await post("/data", body))).toEqual([
      ["PAID", "ID"],
      ["2024-02-01", 1],
      ["2024-02-02", 2],
    ]);
  });
});

describe("messages", () => {
  it('says "1 field", not "1 fields"', async () => {
    await put("one.csv", "a\n1\n");
    const portal = { call: async () => ({}), list: async () => [] } as unknown as Portal;
    const worker = { tables: async () => [{ code: "one", title: "one" }], describe: async () => [{ code: "A", name: "a", type: "int" }] };
    const s = await register(portal, worker, {
      workerUrl: "https://w.test",
      token: "t",
      title: "Files",
      logo: "x",
      dateFormat: "DD.MM.YYYY",
      dryRun: true,
    });
    // `table` and `changes` are for the app page.
    expect(s.lines.find((l) => l.object === "table one")).toEqual({
      object: "table one",
      outcome: "would create",
      detail: "1 field",
      table: "one",
      changes: { added: ["A"], removed: [], retyped: [] },
    });
  });

  it("ends a JSON parser's message with one period", async () => {
    await put("cut.json", '[{"a":1},{"a":tr');
    const err = await errorOf(await post("/table_description", { table: "cut" }));
    expect(err.code).toBe("JSON_MALFORMED");
    expect(err.message).not.toContain("..");
    expect(err.message).toMatch(/invalid\. Check that it was exported completely\.$/);
  });
});

describe("GET /files/<key>", () => {
  const auth = { authorization: "Bearer upload-token" };
  it("returns the live file as stored, streamed, with content-type and etag", async () => {
    const csv = "Дата;Сумма\n31.01.2024;1 234,50\n";
    const put = await call(new Request("https://c.test/files/1c/sales.csv", { method: "PUT", headers: auth, body: csv }));
    const { etag } = (await put.json()) as { etag: string };
    const res = await call(new Request("https://c.test/files/1c/sales.csv", { headers: auth }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv");
    expect(res.headers.get("etag")).toBe(`"${etag}"`);
    expect(await res.text()).toBe(csv);
    const gz = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    await env.DATA.put("raw.csv.gz", gz);
    const raw = await call(new Request("https://c.test/files/raw.csv.gz", { headers: auth }));
    expect(raw.headers.get("content-type")).toBe("application/gzip");
    expect(new Uint8Array(await raw.arrayBuffer())).toEqual(gz);
  });

  it("answers 404 for a missing file and 401 without the upload token", async () => {
    expect(await errorOf(await call(new Request("https://c.test/files/nope.csv", { headers: auth })))).toMatchObject({
      status: 404,
      code: "FILE_NOT_FOUND",
    });
    expect(await errorOf(await call(new Request("https://c.test/files/orders.csv")))).toMatchObject({ status: 401, code: "TOKEN_MISSING" });
  });
});
