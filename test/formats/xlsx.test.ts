// XLSX/XLSM (issue 12): the export corpus (test/fixtures/exports/, written by
// XlsxWriter, openpyxl and LibreOffice) through the format, end to end
// through a direct R2 put + /data and through PUT /files; the sidecar's
// `sheet`; the refusals that say how to convert; cell conversion rules.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { describeStream } from "../../src/catalog/describe";
import { inferTypes } from "../../src/catalog/infer";
import { readConfig } from "../../src/config/config";
import { xlsx } from "../../src/formats/xlsx";
import { formatKind, isoText, NumberKind, numberText, serialText, unescapeText } from "../../src/formats/xlsx/cells";
import type { TableEntry } from "../../src/model";
import { baseTableCode } from "../../src/rules/naming";
import { call, clearBucket, errorOf, post, put, table } from "../helpers";
import { memoryAccess, nothing } from "../memory-access";
import { serialOf } from "../xlsx-build";

const AUTH = { authorization: "Bearer upload-token" };
const upload = (key: string, body: BodyInit) => call(new Request(`https://c.test/files/${key}`, { method: "PUT", body, headers: AUTH }));

async function corpus(name: string): Promise<Uint8Array> {
  const res = await fetch(`${inject("helperOrigin")}/exports/${name}`);
  if (!res.ok) throw new Error(`fixture ${name}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

interface Expected {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  otherSheets?: Record<string, Expected & { sidecar: Record<string, unknown> }>;
  errorMessageMustSay?: string;
}
const expectedOf = async (name: string): Promise<Expected> => JSON.parse(new TextDecoder().decode(await corpus(`expected.${name}.json`)));

/** The rows /data answers for a table (header row dropped), and its header. */
async function dataOf(code: string): Promise<{ header: unknown[]; rows: unknown[][] }> {
  const [header, ...rows] = await table(await post("/data", { table: code }));
  return { header, rows };
}

async function descriptionOf(code: string): Promise<{ name: string; type: string }[]> {
  const res = await post("/table_description", { table: code });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text}`);
  return (JSON.parse(text) as { name: string; type: string }[]).map(({ name, type }) => ({ name, type }));
}

/** Random access over bytes in memory, streamed in `chunk` pieces. */

/** Every raw record of a workbook's sheet, through the format alone (no header handling). */
async function recordsOf(bytes: Uint8Array, sheet?: string): Promise<unknown[][]> {
  const access = memoryAccess(bytes);
  const reader = await xlsx.detect(
    { sample: bytes.subarray(0, 1 << 20), complete: true, ...access },
    { name: "xlsx", sidecar: sheet ? { sheet } : undefined },
  );
  const out: unknown[][] = [];
  for await (const batch of reader.records(nothing(), false, { access })) out.push(...(batch as unknown[][]));
  return out;
}

// The corpus workbooks whose header is row 1 (xlsxwriter-report has a title above it: below).
const READABLE = [
  "libreoffice-sales.xlsx",
  "libreoffice-sales.xlsm",
  "openpyxl-1904.xlsx",
  "openpyxl-iso-dates.xlsx",
  "two-sheets.xlsx",
  "xlsxwriter-1900-dates.xlsx",
  "xlsxwriter-macro.xlsm",
];

beforeEach(clearBucket);

describe("the export corpus, put straight into R2", () => {
  it.each(READABLE)("%s: /table_description and /data answer the expected columns and rows", async (name) => {
    const expected = await expectedOf(name);
    await put(name, await corpus(name));
    const code = baseTableCode(name);
    expect(await descriptionOf(code)).toEqual(expected.columns);
    expect((await dataOf(code)).rows).toEqual(expected.rows);
  });

  it("two-sheets.xlsx: the sidecar's sheet serves the Data sheet", async () => {
    const expected = (await expectedOf("two-sheets.xlsx")).otherSheets!.Data;
    await put("two-sheets.xlsx", await corpus("two-sheets.xlsx"));
    await put("two-sheets.xlsx.schema.json", JSON.stringify(expected.sidecar));
    expect(expected.sidecar).toEqual({ sheet: "Data" });
    expect(await descriptionOf("two_sheets")).toEqual(expected.columns);
    expect((await dataOf("two_sheets")).rows).toEqual(expected.rows);
  });

  it("a sheet the workbook does not have is 422 SCHEMA_INVALID listing its sheets", async () => {
    await put("two-sheets.xlsx", await corpus("two-sheets.xlsx"));
    await put("two-sheets.xlsx.schema.json", JSON.stringify({ sheet: "Daten" }));
    expect(await errorOf(await post("/table_description", { table: "two_sheets" }))).toEqual({
      status: 422,
      code: "SCHEMA_INVALID",
      message:
        'The declared schema names the sheet "Daten", which the workbook does not have (its sheets are: "Summary", "Data"). Fix `sheet` in the sidecar or delete it (then the first sheet is read).',
    });
  });

  it("the sidecar's sheet is a sheet name: another type is refused", async () => {
    await put("two-sheets.xlsx", await corpus("two-sheets.xlsx"));
    await put("two-sheets.xlsx.schema.json", JSON.stringify({ sheet: 2 }));
    expect(await errorOf(await post("/table_description", { table: "two_sheets" }))).toMatchObject({ status: 422, code: "SCHEMA_INVALID" });
  });

  it("a cached description reads with each request's own range reads (nothing request-bound is kept)", async () => {
    const expected = await expectedOf("libreoffice-sales.xlsx");
    await put("sales.xlsx", await corpus("libreoffice-sales.xlsx"));
    for (let i = 0; i < 2; i++) {
      expect(await descriptionOf("sales")).toEqual(expected.columns); // the second: cached, header checked by range reads
      expect((await dataOf("sales")).rows).toEqual(expected.rows);
    }
    // A new version under the same key is described again.
    await put("sales.xlsx", await corpus("xlsxwriter-macro.xlsm"));
    expect((await dataOf("sales")).rows).toEqual((await expectedOf("xlsxwriter-macro.xlsm")).rows);
  });

  it("a filtered and limited /data on a workbook works like on a CSV", async () => {
    await put("sales.xlsx", await corpus("libreoffice-sales.xlsx"));
    const res = await table(
      await post("/data", { table: "sales", select: ["DAY", "AMOUNT"], filter: { ">=DAY": "06.01.2024" }, limit: 1 }),
    );
    expect(res).toEqual([
      ["DAY", "AMOUNT"],
      ["2024-01-06", -7.5],
    ]);
  });
});

describe("the export corpus, uploaded with PUT /files", () => {
  it.each(READABLE)("%s: the upload is checked, made live and served", async (name) => {
    const expected = await expectedOf(name);
    const res = await upload(name, await corpus(name));
    const body = (await res.json()) as { rows: number; columns: { name: string; type: string }[]; notes: string[] };
    expect(res.status).toBe(201);
    expect(body.rows).toBe(expected.rows.length);
    expect(body.columns.map(({ name: n, type }) => ({ name: n, type }))).toEqual(expected.columns);
    expect(body.notes).toEqual([]);
    expect((await dataOf(baseTableCode(name))).rows).toEqual(expected.rows);
    // The staging object is gone; the live object is the upload, stored as a workbook (and compiled: the rows above came from that).
    const listed = await env.DATA.list();
    expect(listed.objects.map((o) => o.key).filter((k) => !k.startsWith(".manifest/") && !k.startsWith(".compiled/"))).toEqual([name]);
    expect(listed.objects.filter((o) => o.key.startsWith(`.compiled/${encodeURIComponent(name)}/`)).length).toBeGreaterThan(1);
    const live = await env.DATA.get(name);
    expect(new Uint8Array(await live!.arrayBuffer())).toEqual(await corpus(name));
    expect(live!.httpMetadata?.contentType).toBe("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  });

  it("a broken workbook is refused and the live table is unchanged", async () => {
    await upload("sales.xlsx", await corpus("libreoffice-sales.xlsx"));
    const bytes = await corpus("libreoffice-sales.xlsx");
    const err = await errorOf(await upload("sales.xlsx", bytes.subarray(0, bytes.length - 100)));
    expect(err.status).toBe(422);
    expect(err.code).toBe("XLSX_MALFORMED");
    expect(err.message).toMatch(
      /^The upload to "sales\.xlsx" was rejected and the live table is unchanged: The workbook cannot be read: it is not a valid zip archive \(/,
    );
    expect((await dataOf("sales")).rows).toEqual((await expectedOf("libreoffice-sales.xlsx")).rows);
    expect((await env.DATA.list()).objects.map((o) => o.key).filter((k) => k.startsWith(".staging/"))).toEqual([]);
  });

  it("an upload cut short of its Content-Length is refused before it is read", async () => {
    const bytes = await corpus("libreoffice-sales.xlsx");
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.subarray(0, 1000));
        c.close();
      },
    });
    const res = await call(
      new Request("https://c.test/files/sales.xlsx", {
        method: "PUT",
        body: stream,
        headers: { ...AUTH, "x-content-sha256": "0".repeat(64) },
        duplex: "half",
      } as RequestInit),
    );
    const err = await errorOf(res);
    expect(err.code).toBe("UPLOAD_INCOMPLETE");
    expect((await env.DATA.list()).objects).toEqual([]);
  });
});

describe("xlsxwriter-report.xlsx: a report layout, read row by row", () => {
  it("yields one record per sheet row (title, empty row, header, data, Total), the way CSV does", async () => {
    const expected = await expectedOf("xlsxwriter-report.xlsx");
    const records = await recordsOf(await corpus("xlsxwriter-report.xlsx"));
    expect(records[0]).toEqual(["Sales report — January 2024"]);
    expect(records[1]).toEqual([]);
    expect(records[2]).toEqual(expected.columns.map((c) => c.name));
    const asText = (v: unknown) => (v === null ? null : String(v));
    expect(records.slice(3, 7)).toEqual(expected.rows.map((r) => r.map(asText)));
    expect(records[7]).toEqual(["Total", null, null, null, "14", "65191"]);
    expect(records.length).toBe(8);
    // From the header on, the shared inference gives the expected types (header detection: test/formats/layout.test.ts).
    const types = inferTypes(records.slice(3, 7) as (string | null)[][], 9, false).map((t) => t.type);
    expect(types).toEqual(expected.columns.map((c) => c.type));
  });
});

describe("refusals that say how to convert", () => {
  const XLS = "this is an Excel 97-2003 binary workbook (OLE2/BIFF8); save it as .xlsx (Excel Workbook) or .csv and upload that";
  const ODS = "this is an OpenDocument spreadsheet; save it as .xlsx (Excel Workbook) or .csv and upload that";

  it("the expected files say what the errors must say", async () => {
    expect((await expectedOf("libreoffice-sales.xls")).errorMessageMustSay).toBe(XLS);
    expect((await expectedOf("libreoffice-sales.ods")).errorMessageMustSay).toBe(ODS);
    expect((await expectedOf("workbook-named.csv")).errorMessageMustSay).toBe("this is an Excel workbook; upload it as .xlsx");
  });

  it.each([
    ["report.xls", "libreoffice-sales.xls", `"report.xls": ${XLS}. The connector reads .xlsx/.xlsm workbooks, CSV and JSON.`],
    ["report.ods", "libreoffice-sales.ods", `"report.ods": ${ODS}. The connector reads .xlsx/.xlsm workbooks, CSV and JSON.`],
    [
      "report.xlsb",
      "libreoffice-sales.xlsx",
      `"report.xlsb": this is an Excel binary workbook (.xlsb); save it as .xlsx (Excel Workbook) or .csv and upload that. The connector reads .xlsx/.xlsm workbooks, CSV and JSON.`,
    ],
  ])("PUT /files/%s is refused by its extension", async (key, fixture, message) => {
    expect(await errorOf(await upload(key, await corpus(fixture)))).toEqual({ status: 422, code: "FORMAT_UNSUPPORTED", message });
  });

  it.each([
    ["libreoffice-sales.xls", XLS],
    ["libreoffice-sales.ods", ODS],
  ])("%s's bytes under an .xlsx name are refused by their bytes", async (fixture, says) => {
    const message = `The upload to "report.xlsx" was rejected and the live table is unchanged: The file is not an .xlsx workbook: ${says}. The connector reads .xlsx/.xlsm workbooks, CSV and JSON.`;
    expect(await errorOf(await upload("report.xlsx", await corpus(fixture)))).toEqual({ status: 422, code: "FORMAT_UNSUPPORTED", message });
    await put("direct.xlsx", await corpus(fixture));
    expect(await errorOf(await post("/table_description", { table: "direct" }))).toEqual({
      status: 422,
      code: "FORMAT_UNSUPPORTED",
      message: `The file is not an .xlsx workbook: ${says}. The connector reads .xlsx/.xlsm workbooks, CSV and JSON.`,
    });
  });

  it.each([
    [
      "workbook.csv",
      "workbook-named.csv",
      "The file is not CSV: this is an Excel workbook; upload it as .xlsx (rename it to .xlsx, or save the sheet as CSV UTF-8).",
    ],
    [
      "workbook.tsv",
      "workbook-named.csv",
      "The file is not TSV: this is an Excel workbook; upload it as .xlsx (rename it to .xlsx, or save the sheet as CSV UTF-8).",
    ],
    [
      "workbook.json",
      "workbook-named.csv",
      "The file is not JSON: this is an Excel workbook; upload it as .xlsx (rename it to .xlsx, or save the sheet as CSV UTF-8).",
    ],
    ["old.csv", "libreoffice-sales.xls", `The file is not CSV: ${XLS}. The connector reads .xlsx/.xlsm workbooks, CSV and JSON.`],
    ["sheet.csv", "libreoffice-sales.ods", `The file is not CSV: ${ODS}. The connector reads .xlsx/.xlsm workbooks, CSV and JSON.`],
  ])("%s holding %s is refused, through PUT /files and straight from R2", async (key, fixture, says) => {
    const bytes = await corpus(fixture);
    const code = fixture === "workbook-named.csv" ? "FILE_FORMAT_MISMATCH" : "FORMAT_UNSUPPORTED";
    expect(await errorOf(await upload(key, bytes))).toEqual({
      status: 422,
      code,
      message: `The upload to "${key}" was rejected and the live table is unchanged: ${says}`,
    });
    await put(key, bytes);
    expect(await errorOf(await post("/table_description", { table: baseTableCode(key) }))).toEqual({ status: 422, code, message: says });
    expect(await errorOf(await post("/data", { table: baseTableCode(key) }))).toEqual({ status: 422, code, message: says });
  });

  it("another zip under a .csv name is refused as a zip archive", async () => {
    const docx = await corpus("libreoffice-sales.xlsx");
    // The same container without any xl/ part name: rename the parts' bytes in place (xl/ → zz/).
    const text = new TextDecoder("latin1").decode(docx).replaceAll("xl/", "zz/");
    const zip = Uint8Array.from(text, (c) => c.charCodeAt(0));
    await put("archive.csv", zip);
    expect(await errorOf(await post("/table_description", { table: "archive" }))).toEqual({
      status: 422,
      code: "FILE_FORMAT_MISMATCH",
      message: "The file is not CSV: this is a zip archive. Unpack it and upload the table inside (.csv, .json or .xlsx).",
    });
  });

  it("CSV text under an .xlsx name is XLSX_MALFORMED, saying it is no zip", async () => {
    await put("text.xlsx", "id,name\n1,a\n");
    expect(await errorOf(await post("/table_description", { table: "text" }))).toEqual({
      status: 422,
      code: "XLSX_MALFORMED",
      message:
        "The workbook cannot be read: it is not a zip archive (an .xlsx file starts with PK); was it saved as another format and renamed?. Open it in Excel or LibreOffice and save it again as .xlsx (Excel Workbook), or save the sheet as CSV UTF-8.",
    });
  });

  it("a URL table cannot be a workbook: URL_TABLES refuses the format", () => {
    const base = { ...env, URL_TABLES: JSON.stringify([{ code: "w", title: "W", url: "https://example.com/a.xlsx", format: "xlsx" }]) };
    expect(() => readConfig(base)).toThrow(
      /a workbook \(xlsx, xlsm\) is read from the bucket only, since a zip needs range reads of the stored file: upload it with PUT \/files, or publish the sheet as CSV and declare format "csv"/,
    );
  });

  it("a workbook without random access (a stream only) is refused with XLSX_NEEDS_RANDOM_ACCESS", async () => {
    const bytes = await corpus("libreoffice-sales.xlsx");
    const entry: TableEntry = { code: "w", title: "w", source: { kind: "r2", key: "w.xlsx", extension: "xlsx", gzip: false } };
    await expect(
      describeStream(
        entry,
        (async function* () {
          yield bytes;
        })(),
        undefined,
      ),
    ).rejects.toMatchObject({ code: "XLSX_NEEDS_RANDOM_ACCESS" });
  });
});

describe("cells", () => {
  it.each([
    [1, NumberKind.Date, false, "1900-01-01"],
    [59, NumberKind.Date, false, "1900-02-28"],
    [60, NumberKind.Date, false, null], // Excel's fictitious 1900-02-29
    [61, NumberKind.Date, false, "1900-03-01"],
    [0, NumberKind.Date, false, null],
    [2958465, NumberKind.Date, false, "9999-12-31"],
    [2958466, NumberKind.Date, false, null],
    [-1, NumberKind.Date, false, null],
    [45314.99998842592, NumberKind.DateTime, false, "2024-01-23 23:59:59"],
    [45323.00001157408, NumberKind.DateTime, false, "2024-02-01 00:00:01"],
    [45322, NumberKind.DateTime, false, "2024-01-31 00:00:00"],
    [45322.5, NumberKind.Date, false, "2024-01-31 12:00:00"], // a date format on a value with a time: a datetime
    [0, NumberKind.Date, true, "1904-01-01"],
    [1.5, NumberKind.DateTime, true, "1904-01-02 12:00:00"],
    [0.75, NumberKind.Time, false, "18:00:00"],
    [1.999999, NumberKind.Time, false, "00:00:00"],
  ])("serial %s (kind %s, 1904: %s) → %s", (serial, kind, date1904, text) => {
    expect(serialText(serial, kind, date1904)).toBe(text);
  });

  it("every date and second from 1900-03-01 to 9999-12-31 survives serial → text (fast-check, fixed seed)", () => {
    const start = Date.UTC(1900, 2, 1) / 1000;
    const end = Date.UTC(9999, 11, 31, 23, 59, 59) / 1000;
    fc.assert(
      fc.property(fc.integer({ min: start, max: end }), (t) => {
        const iso = new Date(t * 1000).toISOString().slice(0, 19).replace("T", " ");
        expect(serialText(serialOf(iso), NumberKind.DateTime, false)).toBe(iso);
      }),
      { seed: 12, numRuns: 2000 },
    );
  });

  it.each([
    ["General", NumberKind.Number],
    ["0.00", NumberKind.Number],
    ['0.0" days"', NumberKind.Number],
    ["[$€-407] #,##0.00;[Red]-[$€-407] #,##0.00", NumberKind.Number],
    ['#,##0 "d"', NumberKind.Number],
    ["yyyy\\-mm\\-dd", NumberKind.Date],
    ["dd.mm.yyyy", NumberKind.Date],
    ["d mmm yyyy", NumberKind.Date],
    ["[$-409]mmmm", NumberKind.Date],
    ["yyyy-mm-dd hh:mm:ss", NumberKind.DateTime],
    ["m/d/yyyy h:mm AM/PM", NumberKind.DateTime],
    ["h:mm:ss", NumberKind.Time],
    ["[h]:mm", NumberKind.Time],
    ["mm:ss", NumberKind.Time],
    ["0;[Red]dd", NumberKind.Number], // only the first section decides
  ])("format %j is %s", (code, kind) => {
    expect(formatKind(code)).toBe(kind);
  });

  it.each([
    [1234.5, "1234.5"],
    [65191.0, "65191"],
    [1e-7, "0.0000001"],
    [-0.000125, "-0.000125"],
    [123456789012, "123456789012"],
  ])("number %s → %s", (n, text) => {
    expect(numberText(n)).toBe(text);
  });

  it.each([
    ["2024-01-31", "2024-01-31"],
    ["2024-01-31T18:45:00", "2024-01-31 18:45:00"],
    ["2024-01-31T18:45", "2024-01-31 18:45:00"],
    ["2024-01-31T18:45:00.123Z", "2024-01-31 18:45:00"],
    ["2024-01-31T18:45:00+03:00", "2024-01-31 18:45:00"],
    ["not a date", "not a date"],
  ])("t=d %j → %j", (text, out) => {
    expect(isoText(text)).toBe(out);
  });

  it("decodes Excel's _xHHHH_ escapes, _x005F_ escaping the underscore", () => {
    expect(unescapeText("a_x000D__x000A_b")).toBe("a\r\nb");
    expect(unescapeText("_x005F_x000D_")).toBe("_x000D_");
    expect(unescapeText("plain_x_text")).toBe("plain_x_text");
  });
});

describe("the sheet reader", () => {
  it("openpyxl-1904.xlsx has no sharedStrings.xml: inline strings", async () => {
    const records = await recordsOf(await corpus("openpyxl-1904.xlsx"));
    expect(records[2]).toEqual(["Счёт 2", "1904-01-01", "1904-01-02 12:00:00", "-0.5", "0"]);
  });

  it("two-sheets.xlsx: the first sheet by default, another by name (case-insensitive when not exact)", async () => {
    const bytes = await corpus("two-sheets.xlsx");
    expect((await recordsOf(bytes))[0]).toEqual(["Region", "Total"]);
    expect((await recordsOf(bytes, "data"))[0]).toEqual(["Region", "Date", "Amount"]);
  });
});
