// The real-exports corpus (test/fixtures/exports/, made by the real producers: see its README and
// docs/design/xlsx-and-exports.md), end to end and with nothing declared: every file as an analyst
// has it, put straight into R2 and uploaded through PUT /files, must give exactly the columns, rows,
// header row, skipped rows and dropped totals its expected/*.json says — or, for the files the
// connector does not read, the refusal that says what to do.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { baseTableCode } from "../../src/rules/naming";
import { call, clearBucket, errorOf, post, put, table } from "../helpers";

interface Place {
  line?: number;
  row?: number;
  reason: string;
  firstCell?: string;
}

interface Expected {
  format: string;
  headerRow?: number;
  skippedRows?: Place[];
  footerRows?: Place[];
  columns?: { name: string; type: string }[];
  rows?: unknown[][];
  refuse?: boolean;
  errorMessageMustSay?: string;
}

const origin = () => inject("helperOrigin");
const bytesOf = async (name: string) => new Uint8Array(await (await fetch(`${origin()}/exports/${name}`)).arrayBuffer());
const expectedOf = async (name: string) => (await (await fetch(`${origin()}/exports/expected/${name}.json`)).json()) as Expected;

// Every fixture of the corpus with an expected file (late-cp1251 is built at test time: test/values/encodings.test.ts).
const TABLES = [
  "1c-sales-report.csv",
  "excel-en-utf8.csv",
  "excel-de-cp1252.csv",
  "excel-ru-utf8.csv",
  "excel-ru-cp1251.csv",
  "google-sheets.csv",
  "xlsxwriter-report.xlsx",
  "xlsxwriter-1900-dates.xlsx",
  "openpyxl-1904.xlsx",
  "openpyxl-iso-dates.xlsx",
  "two-sheets.xlsx",
  "xlsxwriter-macro.xlsm",
  "libreoffice-sales.xlsx",
  "libreoffice-sales.xlsm",
];
const REFUSED = ["libreoffice-sales.ods", "libreoffice-sales.xls", "workbook-named.csv"];

const UPLOAD = { authorization: "Bearer upload-token" };
// The corpus counts CSV places in lines and sheet places in rows; the connector counts rows (the same here).
const place = (p: Place) => ({ at: p.line ?? p.row, reason: p.reason, ...(p.firstCell ? { firstCell: p.firstCell } : {}) });
const places = (list: Place[] | undefined) => (list ?? []).map(place);

beforeEach(clearBucket);

async function served(code: string, expected: Expected) {
  const described = (await (await post("/table_description", { table: code })).json()) as { name: string; type: string }[];
  expect(described.map(({ name, type }) => ({ name, type }))).toEqual(expected.columns);
  const rows = await table(await post("/data", { table: code }));
  expect(rows.slice(1)).toEqual(expected.rows);
}

describe("the export corpus, nothing declared", () => {
  it.each(TABLES)("%s put straight into R2: the columns and rows of expected/", async (name) => {
    const expected = await expectedOf(name);
    const key = `direct/${name}`;
    await put(key, await bytesOf(name));
    await served(baseTableCode(key), expected);
  });

  it.each(TABLES)("%s uploaded with PUT /files: the answer says what was understood, and the table is served", async (name) => {
    const expected = await expectedOf(name);
    const key = `up/${name}`;
    const res = await call(new Request(`https://c.test/files/${key}`, { method: "PUT", headers: UPLOAD, body: await bytesOf(name) }));
    const answer = (await res.json()) as { rows: number; layout: { headerRow: number; skippedRows: Place[]; footerRows: Place[] } };
    expect(res.status).toBe(201);
    expect(answer.rows).toBe(expected.rows!.length);
    expect(answer.layout.headerRow).toBe(expected.headerRow);
    expect(places(answer.layout.skippedRows)).toEqual(places(expected.skippedRows));
    expect(places(answer.layout.footerRows)).toEqual(places(expected.footerRows));
    await served(baseTableCode(key), expected);
  });

  it.each(REFUSED)("%s is refused with what to do, both ways, and the upload stores nothing", async (name) => {
    const expected = await expectedOf(name);
    expect(expected.refuse).toBe(true);
    // Put straight into R2: a .ods/.xls key is no table (not listed); the same bytes under a .csv key say what they are.
    const key = `r/${name.replace(/\.(ods|xls)$/, ".$1.csv")}`;
    await put(key, await bytesOf(name));
    const direct = await errorOf(await post("/table_description", { table: baseTableCode(key) }));
    expect(direct.status).toBe(422);
    expect(direct.message).toContain(expected.errorMessageMustSay);
    const upKey = `up/${name}`;
    const up = await errorOf(
      await call(new Request(`https://c.test/files/${upKey}`, { method: "PUT", headers: UPLOAD, body: await bytesOf(name) })),
    );
    expect(up.status).toBe(422);
    expect(up.message).toContain(expected.errorMessageMustSay);
    expect((await env.DATA.list({ prefix: "up/" })).objects).toEqual([]); // nothing stored, nothing staged under the key
  });
});
