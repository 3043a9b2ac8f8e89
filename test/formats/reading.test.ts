// File formats end to end: CSV dialects and encodings, JSON shapes, gzip,
// declared schemas, and bad files (clear errors, never a table that looks whole).

import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { cp1251 } from "../cp1251";
import { call, clearBucket, errorOf, gzip, post, put, table } from "../helpers";

beforeEach(clearBucket);

const upload = (key: string, body: string) =>
  call(new Request(`https://c.test/files/${key}`, { method: "PUT", body, headers: { authorization: "Bearer upload-token" } }));
const describeTable = async (code: string) => (await post("/table_description", { table: code })).json();
const rows = async (code: string, extra: Record<string, unknown> = {}) => table(await post("/data", { table: code, ...extra }));

describe("CSV dialects", () => {
  const expected = [
    ["ID", "NAME", "NOTE"],
    [1, "a;b", 'say "x"'],
    [2, "line\nbreak", null],
  ];
  it.each([
    ["comma, LF", 'id,name,note\n1,a;b,"say ""x"""\n2,"line\nbreak",\n'],
    ["semicolon, CRLF", 'id;name;note\r\n1;"a;b";"say ""x"""\r\n2;"line\nbreak";\r\n'],
    ["tab", 'id\tname\tnote\n1\ta;b\t"say ""x"""\n2\t"line\nbreak"\t\n'],
    ["pipe, no final newline", 'id|name|note\n1|a;b|"say ""x"""\n2|"line\nbreak"|'],
    ["BOM and CR only", '\uFEFFid,name,note\r1,a;b,"say ""x"""\r2,"line\nbreak",'],
    ["blank lines and short rows", 'id,name,note\n\n1,a;b,"say ""x"""\n2,"line\nbreak"\n\n'],
  ])("%s", async (_, text) => {
    await put("t.csv", text);
    expect(await rows("t")).toEqual(expected);
  });

  it("reads a 1C export: `;`, Windows-1251, Cyrillic headers, comma decimals, leading zeros", async () => {
    await put(
      "1c/sales.csv",
      cp1251(
        'Дата продажи;Сумма;Количество;Артикул;Контрагент\r\n31.01.2024;1\u00a0234,56;3;007;ООО "Ромашка"\r\n01.02.2024;10,5;;010;ИП Ёлкин\r\n',
      ),
    );
    expect(await describeTable("t_1c_sales")).toEqual([
      { code: "DATA_PRODAZHI", name: "Дата продажи", type: "date" },
      { code: "SUMMA", name: "Сумма", type: "double" },
      { code: "KOLICHESTVO", name: "Количество", type: "int" },
      { code: "ARTIKUL", name: "Артикул", type: "string" },
      { code: "KONTRAGENT", name: "Контрагент", type: "string" },
    ]);
    expect(await rows("t_1c_sales")).toEqual([
      ["DATA_PRODAZHI", "SUMMA", "KOLICHESTVO", "ARTIKUL", "KONTRAGENT"],
      ["2024-01-31", 1234.56, 3, "007", 'ООО "Ромашка"'],
      ["2024-02-01", 10.5, null, "010", "ИП Ёлкин"],
    ]);
  });

  it("parses quoted fields across chunk boundaries in a large file", async () => {
    const n = 20_000;
    const lines = ["id,text,amount"];
    for (let i = 0; i < n; i++) lines.push(`${i},"multi\nline, ""quoted"" ${"x".repeat(i % 50)}",${i}.25`);
    await put("big.csv", lines.join("\r\n") + "\r\n");
    const t = await rows("big");
    expect(t.length).toBe(n + 1);
    expect(t[n]).toEqual([n - 1, `multi\nline, "quoted" ${"x".repeat((n - 1) % 50)}`, n - 1 + 0.25]);
    expect(t.every((r) => r.length === 3)).toBe(true);
  });

  it("drops trailing unnamed empty columns (`a;b;;;` exports)", async () => {
    await put("t.csv", "a;b;;\n1;2;;\n3;4;;\n");
    expect(await rows("t")).toEqual([
      ["A", "B"],
      [1, 2],
      [3, 4],
    ]);
  });

  it('names empty, duplicate and PHP-empty ("0") headers', async () => {
    await put("t.csv", "x,,x,0\n1,2,3,4\n");
    expect(await describeTable("t")).toEqual([
      { code: "X", name: "x", type: "int" },
      { code: "COLUMN_2", name: "Column 2", type: "int" },
      { code: "X_2", name: "x", type: "int" },
      { code: "COLUMN_4", name: "Column 4", type: "int" },
    ]);
    await put("0.csv", "a\n1\n");
    expect(await (await post("/table_list", { searchString: "t_0" })).json()).toEqual([{ code: "t_0", title: "0.csv" }]);
  });

  it("turns a cell that does not fit its column's type into null", async () => {
    const body = ["n,d", ...Array.from({ length: 10_050 }, (_, i) => (i === 10_040 ? "oops,never" : `${i},2024-01-0${(i % 9) + 1}`))].join(
      "\n",
    );
    await put("t.csv", body);
    const t = await rows("t");
    expect(t[10_041]).toEqual([null, null]);
    expect(t[10_042]).toEqual([10_041, `2024-01-0${(10_041 % 9) + 1}`]);
  });
});

describe("JSON tables", () => {
  it("reads an array of objects: union of keys, nested values as JSON text, missing as null", async () => {
    await put("p.json", '\uFEFF[{"id":1,"name":"A","tags":["x"],"ok":true},{"id":2,"price":9.5,"meta":{"k":1}}]');
    expect(await describeTable("p")).toEqual([
      { code: "ID", name: "id", type: "int" },
      { code: "NAME", name: "name", type: "string" },
      { code: "TAGS", name: "tags", type: "string" },
      { code: "OK", name: "ok", type: "string" },
      { code: "PRICE", name: "price", type: "double" },
      { code: "META", name: "meta", type: "string" },
    ]);
    expect(await rows("p")).toEqual([
      ["ID", "NAME", "TAGS", "OK", "PRICE", "META"],
      [1, "A", '["x"]', "true", null, null],
      [2, null, null, null, 9.5, '{"k":1}'],
    ]);
  });

  it("reads an array of arrays with a header row", async () => {
    await put("a.json", '[["Дата", "Sum"], ["2024-01-31", 1.5], ["2024-02-01", null]]');
    expect(await rows("a")).toEqual([
      ["DATA", "SUM"],
      ["2024-01-31", 1.5],
      ["2024-02-01", null],
    ]);
  });

  it.each(["e.ndjson", "e.jsonl", "e.json"])("reads NDJSON from %s", async (key) => {
    await put(key, '{"ts":"2024-03-01T10:00:00Z","n":1}\n\n{"ts":"2024-03-01T11:30:00Z","n":2,"extra":"x"}\n');
    expect(await rows("e")).toEqual([
      ["TS", "N", "EXTRA"],
      ["2024-03-01 10:00:00", 1, null],
      ["2024-03-01 11:30:00", 2, "x"],
    ]);
  });

  it("streams a large JSON array", async () => {
    const items = Array.from({ length: 30_000 }, (_, i) => ({ id: i, s: `v${i}` }));
    await put("big.json", JSON.stringify(items));
    const t = await rows("big", { select: ["S"] });
    expect(t.length).toBe(30_001);
    expect(t[30_000]).toEqual(["v29999"]);
  });
});

describe("gzip", () => {
  it.each([
    ["s.csv.gz", "id,v\n1,a\n2,b\n"],
    ["s.ndjson.gz", '{"id":1,"v":"a"}\n{"id":2,"v":"b"}\n'],
  ])("decompresses %s", async (key, text) => {
    await put(key, await gzip(text));
    expect(await rows("s")).toEqual([
      ["ID", "V"],
      [1, "a"],
      [2, "b"],
    ]);
  });

  it("reports a .gz that is not gzip", async () => {
    await put("s.csv.gz", "id,v\n1,a\n");
    expect(await errorOf(await post("/table_description", { table: "s" }))).toMatchObject({ status: 422, code: "FILE_GZIP_INVALID" });
  });
});

describe("declared schema (sidecar)", () => {
  it("overrides types, codes, names, delimiter, encoding and date format", async () => {
    await put("d.csv", cp1251("Код,Дата,Сумма\n001,02/03/2024,5\n"));
    await put(
      "d.csv.schema.json",
      JSON.stringify({
        encoding: "windows-1251",
        delimiter: ",",
        dateFormat: "DD/MM/YYYY",
        columns: { Код: { type: "int", code: "CODE" }, Сумма: { type: "money", name: "Сумма, руб." } },
      }),
    );
    expect(await describeTable("d")).toEqual([
      { code: "CODE", name: "Код", type: "int" },
      { code: "DATA", name: "Дата", type: "date" },
      { code: "SUMMA", name: "Сумма, руб.", type: "double" }, // money is a synonym of double
    ]);
    expect(await rows("d")).toEqual([
      ["CODE", "DATA", "SUMMA"],
      [1, "2024-03-02", 5],
    ]);
  });

  it.each([
    ["{bad json", "not valid JSON"],
    ['{"columns":{"Nope":{"type":"int"}}}', '"Nope" is not a column'],
    ['{"columns":{"a":{"type":"number"}}}', "columns.a.type"],
    ['{"columns":{"a":{"code":"lower"}}}', "columns.a.code"],
    ['{"columns":{"a":{"code":"B"}}}', 'two columns have the code "B"'],
    ['{"delimiter":"::"}', "delimiter"],
    ['{"surprise":1}', "surprise"],
    ['{"encoding":"klingon"}', "klingon"],
  ])("rejects the sidecar %s", async (sidecar, detail) => {
    await put("d.csv", "a,b\n1,2\n");
    await put("d.csv.schema.json", sidecar);
    for (const path of ["/table_description", "/data"]) {
      const err = await errorOf(await post(path, { table: "d" }));
      expect(err).toMatchObject({ status: 422, code: "SCHEMA_INVALID" });
      expect(err.message).toContain(detail);
    }
  });

  it("is picked up when it changes (cache keyed by both versions)", async () => {
    await put("d.csv", "a\n1\n");
    expect(await describeTable("d")).toEqual([{ code: "A", name: "a", type: "int" }]);
    await put("d.csv.schema.json", '{"columns":{"a":{"type":"string"}}}');
    expect(await describeTable("d")).toEqual([{ code: "A", name: "a", type: "string" }]);
    await put("d.csv", "a,b\n1,2\n");
    expect(await describeTable("d")).toEqual([
      { code: "A", name: "a", type: "string" },
      { code: "B", name: "b", type: "int" },
    ]);
  });
});

describe("bad files", () => {
  it.each([
    // An empty object is not listed at all (test/routes/wire.test.ts).
    ["e.csv", "\n\n", "FILE_EMPTY"],
    ["e.json", "  ", "JSON_MALFORMED"],
    ["e.json", '{"a":1} trailing', "JSON_MALFORMED"],
    ["e.json", "42", "JSON_MALFORMED"],
    ["e.json", '[{"a":1},', "JSON_MALFORMED"],
    ["e.ndjson", '{"a":1}\n{"a":\n', "JSON_MALFORMED"],
    ["e.csv", 'a,b\n1,"unclosed\n', "CSV_MALFORMED"],
    ["e.csv", 'a,b\n1,"x"y\n', "CSV_MALFORMED"],
    ["e.csv", "a,b\n1,2,3\n", "CSV_MALFORMED"],
  ])("%s %j → %s", async (key, text, code) => {
    await put(key, text);
    const res = await post("/data", { table: "e" });
    expect(await errorOf(res)).toMatchObject({ status: 422, code });
  });

  it("reports invalid UTF-8 that appears after the sample, and never ends the body as valid JSON", async () => {
    const good = Array.from({ length: 60_000 }, (_, i) => `${i},Привет`).join("\n");
    const enc = new TextEncoder();
    const bytes = new Uint8Array([...enc.encode(`id,t\n${good}\n1,`), 0xff, 0xfe, ...enc.encode("\n")]);
    await put("e.csv", bytes);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {}); // the Worker log gets it too (asserted, not printed)
    const res = await post("/data", { table: "e" });
    expect(res.status).toBe(200); // headers were sent before the bad byte was read
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toContain('!ERROR {"error":{"code":"FILE_ENCODING_INVALID"');
    expect(logged).toHaveBeenCalledWith(JSON.stringify({ event: "answer_failed", table: "e", code: "FILE_ENCODING_INVALID" }));
    logged.mockRestore();
  });

  it("reports a malformed row deep in the file the same way", async () => {
    const good = Array.from({ length: 100_000 }, (_, i) => `${i},x`).join("\n");
    await put("e.csv", `id,t\n${good}\n5,6,7\n`);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const text = await (await post("/data", { table: "e" })).text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toMatch(/!ERROR .*"CSV_MALFORMED".*Record 100002 \(the header is record 1\) has 3 fields but the header has 2/);
    expect(logged).toHaveBeenCalledWith(JSON.stringify({ event: "answer_failed", table: "e", code: "CSV_MALFORMED" }));
    logged.mockRestore();
  });
});

describe("delimiter detection", () => {
  it.each([
    [
      "one data row and a final newline",
      "Артикул;Остаток\n007;5\n",
      [
        ["ARTIKUL", "OSTATOK"],
        ["007", 5],
      ],
    ],
    ["header only", "a;b\n", [["A", "B"]]],
    [
      "a comma inside a ;-file's quoted text",
      'a;b\n"x, y";2\n"z, w";3\n',
      [
        ["A", "B"],
        ["x, y", 2],
        ["z, w", 3],
      ],
    ],
  ])("%s", async (_, text, expected) => {
    await put("d.csv", text);
    expect(await rows("d")).toEqual(expected);
  });
});

describe("a JSON file whose first record is over 1 MiB is not called empty", () => {
  const big = "x".repeat(1_200_000);
  const message = (code: string) =>
    `The first record of table "${code}" does not end within the first 1048576 bytes (1 MiB) of its file, which are what the connector reads to describe a table: either that record is larger than 1 MiB (keep every record under 1 MiB: put large nested values in their own records or columns), or it is broken (a quote, bracket or brace that is never closed).`;

  it.each([
    ["wide.ndjson", `{"id":1,"blob":"${big}"}\n{"id":2,"blob":"b"}\n`],
    ["wide_array.json", `[{"id":1,"blob":"${big}"},{"id":2,"blob":"b"}]`],
    ["wide_rows.json", `[["id","${big}"],[1,"b"]]`], // a header array over 1 MiB
  ])("%s: 422 JSON_MALFORMED saying the first record is larger than the sample (not FILE_EMPTY)", async (key, text) => {
    const code = key.replace(/\.\w+$/, "");
    await env.DATA.put(key, text);
    const res = await post("/table_description", { table: code });
    expect(await errorOf(res)).toEqual({ status: 422, code: "JSON_MALFORMED", message: message(code) });
    const up = await errorOf(await upload(`up_${key}`, text));
    expect(up).toEqual({
      status: 422,
      code: "JSON_MALFORMED",
      message: `The upload to "up_${key}" was rejected and the live table is unchanged: ${message(`up_${code}`)}`,
    });
  });

  it("a first record just under 1 MiB is served", async () => {
    const almost = "y".repeat(1_000_000);
    await env.DATA.put("near.ndjson", `{"id":1,"blob":"${almost}"}\n{"id":2,"blob":"b"}\n`);
    const got = await rows("near");
    expect(got[0]).toEqual(["ID", "BLOB"]);
    expect(got.slice(1).map(([id, blob]) => [id, (blob as string).length])).toEqual([
      [1, 1_000_000],
      [2, 1],
    ]);
  });

  it("an empty file is still FILE_EMPTY", async () => {
    await env.DATA.put("void.ndjson", "\n\n");
    expect(await errorOf(await post("/data", { table: "void" }))).toMatchObject({ status: 422, code: "FILE_EMPTY" });
  });
});
