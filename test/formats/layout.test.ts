// Report layouts (docs/design/xlsx-and-exports.md §6): the header
// found below title and blank lines, totals and empty rows at the end dropped
// (only the contiguous block at the end, held back while streaming, capped),
// the sidecar's headerRow/skipRows/footerRows; proved on the real-exports
// corpus (test/fixtures/exports/, expected/*.json) through the endpoints.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { describeStream, describeTable } from "../../src/catalog/describe";
import { readConfig } from "../../src/config/config";
import { FooterFilter, findHeader, isTotalsRow, MAX_HELD_TOTALS, RELEASE_BATCH } from "../../src/formats/report-layout";
import { headerMatches, tableRows } from "../../src/formats/rows";
import type { FooterRule, TableEntry, TextRow } from "../../src/model";
import { baseTableCode } from "../../src/rules/naming";
import { call, clearBucket, errorOf, gzip, post, put, table } from "../helpers";

beforeEach(clearBucket);

interface Expected {
  headerRow: number;
  skippedRows: { line: number; reason: string }[];
  footerRows: { line: number; reason: string; firstCell: string }[];
  columns: { name: string; type: string }[];
  rows: unknown[][];
}

async function fixture(name: string): Promise<{ bytes: Uint8Array; expected: Expected }> {
  const origin = inject("helperOrigin");
  const bytes = new Uint8Array(await (await fetch(`${origin}/exports/${name}`)).arrayBuffer());
  const expected = (await (await fetch(`${origin}/exports/expected/${name}.json`)).json()) as Expected;
  return { bytes, expected };
}

// expected/*.json counts physical lines; the connector counts rows with blank lines included: the same in this corpus.
const asLines = <T extends { row: number }>(rows: T[]) => rows.map(({ row, ...rest }) => ({ line: row, ...rest }));

const entryFor = (key: string): TableEntry => ({
  code: baseTableCode(key),
  title: key,
  source: { kind: "r2", key, extension: "csv", gzip: false },
});

const UPLOAD = { authorization: "Bearer upload-token" };

// Encoding detection is another piece of work (values/charset.ts): the Windows-encoded files declare theirs.
const CSV_FIXTURES: [string, string | null][] = [
  ["1c-sales-report.csv", "windows-1251"],
  ["excel-en-utf8.csv", null],
  ["excel-de-cp1252.csv", "windows-1252"],
  ["excel-ru-utf8.csv", null],
  ["excel-ru-cp1251.csv", "windows-1251"],
  ["google-sheets.csv", null],
];

describe("the CSV exports of the corpus", () => {
  it.each(CSV_FIXTURES)("%s: header row, skipped rows, totals, columns and rows exactly as expected/", async (name, encoding) => {
    const { bytes, expected } = await fixture(name);
    const key = `exports/${name}`;
    const code = baseTableCode(key);
    await put(key, bytes);
    if (encoding) await put(`${key}.schema.json`, JSON.stringify({ encoding }));

    const described = await (await post("/table_description", { table: code })).json();
    expect((described as { name: string; type: string }[]).map(({ name, type }) => ({ name, type }))).toEqual(expected.columns);
    const data = await table(await post("/data", { table: code }));
    expect(data.slice(1)).toEqual(expected.rows);

    const { description, bytes: rest } = await describeTable(env, readConfig(env), entryFor(key));
    await rest.return(undefined);
    expect(description.layout).toMatchObject({ headerRow: expected.headerRow, declared: false });
    expect(asLines(description.layout!.skippedRows)).toEqual(expected.skippedRows);
    expect(asLines(description.layout!.footerRows)).toEqual(expected.footerRows);
  });

  it.each(CSV_FIXTURES)("%s: the upload answer shows the layout it understood", async (name, encoding) => {
    const { bytes, expected } = await fixture(name);
    const key = `up/${name}`;
    if (encoding) await put(`${key}.schema.json`, JSON.stringify({ encoding }));
    const res = await call(new Request(`https://c.test/files/${key}`, { method: "PUT", headers: UPLOAD, body: bytes }));
    expect(res.status).toBe(201);
    const answer = (await res.json()) as {
      rows: number;
      layout: { headerRow: number; skippedRows: { row: number }[]; footerRows: { row: number }[]; footerRowCount: number };
    };
    expect(answer.rows).toBe(expected.rows.length);
    expect(answer.layout.headerRow).toBe(expected.headerRow);
    expect(asLines(answer.layout.skippedRows)).toEqual(expected.skippedRows);
    expect(asLines(answer.layout.footerRows)).toEqual(expected.footerRows);
    expect(answer.layout.footerRowCount).toBe(expected.footerRows.length);
  });
});

describe("header detection", () => {
  const rows = (text: string): TextRow[] => text.split("\n").map((l) => (l === "" ? [] : l.split(";")));
  it.each([
    ["a plain table keeps its first row", "id;name;amount\n1;Ann;2,5\n2;Bob;3", 0],
    ["text everywhere: the first row", "a;b\nx;y\nz;w", 0],
    ["duplicate names in the first row of a text table: still the first row", "a;a;b\nx;y;z\nu;v;w", 0],
    ["numbers in the first row: the first row", "1;2;3\n4;5;6", 0],
    ["title and blank lines above", "Report;;\nPeriod: January;;\n\nDate;Item;Sum\n01.01.2024;a;1\n02.01.2024;b;2", 3],
    [
      "a two-cell period line above the header",
      "Sales report;;\nPeriod:;January 2024;\nDate;Item;Sum\n01.01.2024;a;1,5\n02.01.2024;b;2\n03.01.2024;c;3",
      2,
    ],
    ["leading blank lines", "\n\nid;v\n1;2", 2],
    ["a header only", "id;v", 0],
    ["one column", "Title\nname\nAnn", 0],
  ])("%s", (_, text, index) => {
    expect(findHeader(rows(text)).index).toBe(index);
  });
});

describe("blank lines", () => {
  it("a file of blank lines holds no table", async () => {
    await put("b/blank.csv", "\n\r\n\n");
    const err = await errorOf(await post("/table_description", { table: "b_blank" }));
    expect(err).toMatchObject({ status: 422, code: "FILE_EMPTY" });
    expect(err.message).toContain("it has only blank lines");
  });
});

describe("totals rows", () => {
  const numeric = [false, true, true];
  it.each([
    [["Итого", "", "14"], true],
    [["ИТОГО:", "5", "14"], true],
    [["Итого по складу", "5", "1 234,50"], true],
    [["Grand total", "5", "$1,234.50"], true],
    [["Total:", "5", ""], true],
    [["", "Summe", "5"], true], // the label is the first non-empty cell, wherever it is
    [["Gesamt", "", ""], false], // no number
    [["Totals", "5", "5"], false], // another word
    [["Totalbetrag", "5", "5"], false],
    [["Total", "five", "5"], false],
    [["Razem", "1", "2"], true],
    [["Suma", "1", "2"], true],
    [["Всего", "1", "2"], true],
  ] as const)("%j → %s", (cells, total) => {
    expect(isTotalsRow([...cells], numeric)).toBe(total);
  });

  const run = (rule: FooterRule, input: TextRow[]) => {
    const filter = new FooterFilter(rule, 3);
    const out: TextRow[] = [];
    input.forEach((r, i) => filter.push(r, i + 2, out));
    return { out, dropped: filter.end() };
  };
  const totals: FooterRule = { kind: "totals", numeric: [1, 2], maxHeld: MAX_HELD_TOTALS };
  const data = (n: number): TextRow => [`item ${n}`, String(n), "1,5"];
  const total: TextRow = ["Total", "10", "15"];
  const empty: TextRow = ["", null, ""];

  it("drops the contiguous block at the end only: a Total inside the data stays data", () => {
    const { out, dropped } = run(totals, [data(1), total, empty, data(2), total, empty, empty, ["Итого:", "20", ""], empty]);
    expect(out).toEqual([data(1), total, [null, null, null], data(2)]);
    expect(dropped).toEqual({
      count: 5,
      rows: [
        { row: 6, reason: "total", firstCell: "Total" },
        { row: 7, reason: "empty" },
        { row: 9, reason: "total", firstCell: "Итого:" },
        { row: 10, reason: "empty" },
      ],
    });
  });

  it("a table of totals-like rows only is data: a footer is below data", () => {
    expect(run(totals, [total, empty, total]).out).toEqual([total, empty, total]);
  });

  it("holds at most maxHeld totals rows: a longer block is data", () => {
    const many = Array.from({ length: MAX_HELD_TOTALS + 1 }, () => total);
    const { out, dropped } = run(totals, [data(1), ...many]);
    expect(out).toHaveLength(MAX_HELD_TOTALS + 2);
    expect(dropped.count).toBe(0);
    // Exactly the cap: held, and dropped at the end.
    const capped = run(totals, [data(1), ...many.slice(1)]);
    expect(capped.out).toEqual([data(1)]);
    expect(capped.dropped.count).toBe(MAX_HELD_TOTALS);
  });

  it("holds empty rows as a count, not as rows: a million trailing empty rows are dropped", () => {
    const filter = new FooterFilter(totals, 3);
    const out: TextRow[] = [];
    filter.push(data(1), 2, out);
    for (let i = 0; i < 1_000_000; i++) filter.push(["", "", ""], i + 3, out);
    expect(out).toEqual([data(1)]);
    expect(filter.end()).toEqual({ count: 1_000_000, rows: [{ row: 3, reason: "empty" }] });
  });

  it("the sidecar's footerRows drops exactly that many rows, whatever they hold", () => {
    const { out, dropped } = run({ kind: "count", rows: 2 }, [data(1), data(2), data(3), total]);
    expect(out).toEqual([data(1), data(2)]);
    expect(dropped.rows).toEqual([
      { row: 4, reason: "footer" },
      { row: 5, reason: "footer" },
    ]);
    expect(run({ kind: "count", rows: 0 }, [data(1), total]).out).toEqual([data(1), total]);
  });

  it("a file far larger than the description's sample: the totals at its end are dropped while streaming", async () => {
    let text = "Отчет;;\n\nДата;Товар;Сумма\n";
    let n = 0;
    while (text.length < 1_300_000) text += `${String((n % 28) + 1).padStart(2, "0")}.01.2024;item ${n++};1\u00a0234,50\n`;
    text += "Итого;;1\u00a0234\u00a0567,00\n;;\n";
    await put("big/report.csv", text);
    const rows = await table(await post("/data", { table: "big_report" }));
    expect(rows).toHaveLength(n + 1);
    expect(rows[0]).toEqual(["DATA", "TOVAR", "SUMMA"]);
    expect(rows[n]).toEqual(["2024-01-" + String(((n - 1) % 28) + 1).padStart(2, "0"), `item ${n - 1}`, 1234.5]);
    // The upload reads the whole file and reports what it dropped.
    const res = await call(new Request("https://c.test/files/big/up.csv", { method: "PUT", headers: UPLOAD, body: text }));
    const answer = (await res.json()) as { rows: number; layout: unknown };
    expect(answer.rows).toBe(n);
    expect(answer.layout).toEqual({
      headerRow: 3,
      skippedRows: [
        { row: 1, reason: "title" },
        { row: 2, reason: "empty" },
      ],
      footerRows: [
        { row: n + 4, reason: "total", firstCell: "Итого" },
        { row: n + 5, reason: "empty" },
      ],
      footerRowCount: 2,
      declared: false,
    });
  });
});

describe("sidecar headerRow, skipRows, footerRows", () => {
  const REPORT = "Report;;\nsome note;x;\nid;name;amount\n1;a;5\n2;b;6\nTotal;;11\n";

  it("headerRow and skipRows put the header where they say; footerRows drops exactly that many", async () => {
    await put("s/r.csv", REPORT);
    await put("s/r.csv.schema.json", JSON.stringify({ headerRow: 3, footerRows: 0 }));
    // "Total" kept as data makes ID a text column.
    expect(await table(await post("/data", { table: "s_r" }))).toEqual([
      ["ID", "NAME", "AMOUNT"],
      ["1", "a", 5],
      ["2", "b", 6],
      ["Total", null, 11],
    ]);
  });

  it.each([
    [
      { skipRows: 2 },
      [
        ["ID", "NAME", "AMOUNT"],
        [1, "a", 5],
        [2, "b", 6],
      ],
    ],
    [
      { skipRows: 2, footerRows: 2 },
      [
        ["ID", "NAME", "AMOUNT"],
        [1, "a", 5],
      ],
    ],
    [
      { headerRow: 2 },
      [
        ["SOME_NOTE", "X", "COLUMN_3"],
        ["id", "name", "amount"],
        ["1", "a", "5"],
        ["2", "b", "6"],
        ["Total", null, "11"],
      ],
    ],
  ])("%j", async (sidecar, expected) => {
    await put("s/r.csv", REPORT);
    await put("s/r.csv.schema.json", JSON.stringify(sidecar));
    expect(await table(await post("/data", { table: "s_r" }))).toEqual(expected);
  });

  it.each([
    [{ headerRow: 3, skipRows: 1 }, "headerRow 3 and skipRows 1 disagree"],
    [{ headerRow: 40 }, "row 40 of the file is beyond"],
    [{ headerRow: 0 }, "headerRow"],
    [{ footerRows: 5000 }, "footerRows"],
  ])("refuses %j", async (sidecar, message) => {
    await put("s/r.csv", REPORT);
    await put("s/r.csv.schema.json", JSON.stringify(sidecar));
    const err = await errorOf(await post("/table_description", { table: "s_r" }));
    expect(err).toMatchObject({ status: 422, code: "SCHEMA_INVALID" });
    expect(err.message).toContain(message);
  });

  it("refuses a headerRow on a blank line", async () => {
    await put("s/b.csv", "Report;;\n\nid;v\n1;2\n");
    await put("s/b.csv.schema.json", JSON.stringify({ headerRow: 2 }));
    const err = await errorOf(await post("/table_description", { table: "s_b" }));
    expect(err.message).toContain("row 2 of the file is a blank line");
  });
});

describe("a described layout on later reads", () => {
  async function* text(t: string) {
    yield new TextEncoder().encode(t);
  }
  it("checks the header where the layout says it is, and reads the rows below it", async () => {
    const { description, bytes } = await describeStream(entryFor("h.csv"), text("Title;;\n\nid;name;v\n1;a;2\nИтого;;2\n"), undefined);
    await bytes.return(undefined);
    expect(description.layout).toMatchObject({ headerRow: 3, footerRows: [{ row: 5, reason: "total", firstCell: "Итого" }] });
    expect(await headerMatches(text("Other title;;\n\nid;name;v\n9;z;9\n"), description)).toBe(true);
    expect(await headerMatches(text("id;name;v\n9;z;9\n"), description)).toBe(false);
    expect(await headerMatches(text("Title;;\nid;name;v\n9;z;9\n"), description)).toBe(false);
    const rows: TextRow[] = [];
    let dropped;
    for await (const batch of tableRows(text("New title;;\n\nid;name;v\n1;a;2\n\n3;b;4\nИтого;;6\n;;\n"), description, {
      onFooter: (d) => (dropped = d),
    }))
      rows.push(...batch);
    expect(rows).toEqual([
      ["1", "a", "2"],
      ["3", "b", "4"],
    ]);
    expect(dropped).toEqual({
      count: 2,
      rows: [
        { row: 7, reason: "total", firstCell: "Итого" },
        { row: 8, reason: "empty" },
      ],
    });
  });

  it("a changed title above the same header is still the same table; a header that moved is described again", async () => {
    await put("m/r.csv", "Report for January;;\n\nid;name;v\n1;a;2\n");
    // The second description is the cached one, its header checked at row 3 of a fresh read.
    for (let i = 0; i < 2; i++)
      expect(await (await post("/table_description", { table: "m_r" })).json()).toEqual([
        { code: "ID", name: "id", type: "int" },
        { code: "NAME", name: "name", type: "string" },
        { code: "V", name: "v", type: "int" },
      ]);
    expect(await table(await post("/data", { table: "m_r" }))).toEqual([
      ["ID", "NAME", "V"],
      [1, "a", 2],
    ]);
    await put("m/r.csv", "Report for February;;\n\nid;name;v\n1;a;3\n");
    expect(await table(await post("/data", { table: "m_r" }))).toEqual([
      ["ID", "NAME", "V"],
      [1, "a", 3],
    ]);
    await put("m/r.csv", "id;name;v\n1;a;4\n");
    expect(await table(await post("/data", { table: "m_r" }))).toEqual([
      ["ID", "NAME", "V"],
      [1, "a", 4],
    ]);
  });
});

describe("refusals that teach: bytes that are no text table under a .csv or .json key", () => {
  const bytes = (...parts: (string | number[])[]) => {
    const chunks = parts.map((p) => (typeof p === "string" ? new TextEncoder().encode(p) : Uint8Array.from(p)));
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) out.set(c, at), (at += c.length);
    return out;
  };
  it.each([
    ["r/report.csv", bytes("%PDF-1.7\n%\u00e2\u00e3\n1 0 obj\n"), "is a PDF document, not a CSV file"],
    ["r/page.csv", bytes("\uFEFF\n  <!DOCTYPE html>\n<html><body>a,b</body></html>\n"), "is an HTML page, not a CSV file"],
    ["r/page.json", bytes("<html lang=en><head></head></html>"), "is an HTML page, not a JSON file"],
    ["r/archive.csv", bytes([0x50, 0x4b, 5, 6, 0, 0, 0, 0]), "is a zip archive, not a CSV file"],
    ["r/packed.csv", bytes([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), "name it with .gz at the end"],
    ["r/image.csv", bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), "is a binary file (it holds NUL bytes"],
    ["r/utf16-like.json", bytes("[1", [0], ",2]"), "is a binary file"],
  ])("%s", async (key, body, message) => {
    await put(key, body);
    const code = baseTableCode(key);
    for (const path of ["/table_description", "/data"]) {
      const err = await errorOf(await post(path, { table: code }));
      expect(err).toMatchObject({ status: 422, code: "FILE_NOT_TABLE" });
      expect(err.message).toContain(message);
      expect(err.message).toContain("CSV UTF-8");
    }
  });

  it("an upload of one is refused and the live table is unchanged", async () => {
    await put("r/live.csv", "id\n1\n");
    const res = await call(new Request("https://c.test/files/r/live.csv", { method: "PUT", headers: UPLOAD, body: "%PDF-1.4\n..." }));
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 422, code: "FILE_NOT_TABLE" });
    expect(err.message).toContain("rejected and the live table is unchanged");
    expect(await table(await post("/data", { table: "r_live" }))).toEqual([["ID"], [1]]);
  });

  it("the corpus' workbook under a .csv name is no longer a table of zip bytes", async () => {
    const { bytes: workbook } = await fixture("workbook-named.csv");
    await put("r/workbook-named.csv", workbook);
    const err = await errorOf(await post("/table_description", { table: "r_workbook_named" }));
    expect(err).toMatchObject({ status: 422, code: "FILE_FORMAT_MISMATCH" });
    expect(err.message).toContain("this is an Excel workbook; upload it as .xlsx");
  });

  it("a zip archive that is no workbook, under a .csv name, says so", async () => {
    await put("r/archive2.csv", bytes([0x50, 0x4b, 3, 4, 20, 0, 0, 0], "data/a.csv"));
    const err = await errorOf(await post("/table_description", { table: "r_archive2" }));
    expect(err).toMatchObject({ status: 422, code: "FILE_FORMAT_MISMATCH" });
    expect(err.message).toContain("this is a zip archive");
  });

  it("text that merely starts like one is read: a CSV whose first cell is <html", async () => {
    await put("r/fine.csv", "note,v\n<b>x</b>,1\n");
    expect(await table(await post("/data", { table: "r_fine" }))).toEqual([
      ["NOTE", "V"],
      ["<b>x</b>", 1],
    ]);
  });
});

const SEED = 20261201;

describe("properties (fast-check, fixed seeds)", () => {
  const word = fc.stringMatching(/^[A-Za-zА-Яа-я]{2,10}$/).filter((w) => !/^(итого|всего|total|gesamt|summe|suma|razem)/i.test(w));

  it("a typed table below title rows and blank lines: the header is found, the rows above are skipped", () => {
    const table = fc.integer({ min: 2, max: 8 }).chain((width) =>
      fc.record({
        names: fc.uniqueArray(word, { minLength: width, maxLength: width, comparator: (a, b) => a.toLowerCase() === b.toLowerCase() }),
        kinds: fc
          .array(fc.constantFrom("int", "money", "date", "text"), { minLength: width, maxLength: width })
          .filter((k) => k.some((x) => x !== "text")),
        rows: fc.integer({ min: 2, max: 30 }),
        above: fc.array(
          fc.oneof(
            fc.constant<TextRow>([]),
            word.map((w): TextRow => [w]),
            word.map((w): TextRow => [w, "", ""]),
          ),
          { maxLength: 6 },
        ),
        texts: fc.array(word, { minLength: 1, maxLength: 50 }),
      }),
    );
    fc.assert(
      fc.property(table, ({ names, kinds, rows, above, texts }) => {
        const cell = (kind: string, r: number, j: number) =>
          kind === "int"
            ? String(r * 7 + j)
            : kind === "money"
              ? `${r + 1}\u00a0${String(100 + j).padStart(3, "0")},${r % 10}0`
              : kind === "date"
                ? `${String((r % 28) + 1).padStart(2, "0")}.01.2024`
                : texts[(r + j) % texts.length];
        const data = Array.from({ length: rows }, (_, r) => kinds.map((k, j) => cell(k, r, j)));
        const found = findHeader([...above, names, ...data]);
        expect(found.index).toBe(above.length);
        expect(found.skipped.map((s) => s.reason)).toEqual(above.map((r) => (r.some((c) => c !== "") ? "title" : "empty")));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("the streaming footer drops exactly what a look from the end would: the trailing block of totals and empty rows, unless it outgrew the cap", () => {
    const kind = fc.constantFrom("data", "total", "empty");
    fc.assert(
      fc.property(fc.array(kind, { maxLength: 60 }), fc.integer({ min: 1, max: 8 }), (kinds, cap) => {
        const rows: TextRow[] = kinds.map((k, i) =>
          k === "data" ? [`item ${i}`, String(i), ""] : k === "total" ? ["Итого", "", String(i)] : ["", "", null],
        );
        const filter = new FooterFilter({ kind: "totals", numeric: [1, 2], maxHeld: cap }, 3);
        const out: TextRow[] = [];
        rows.forEach((r, i) => filter.push(r, i + 1, out));
        const dropped = filter.end();
        // Reference: the block after the last data row, dropped if it holds at most `cap` totals (no data row: nothing is a footer).
        const lastData = kinds.lastIndexOf("data");
        const block = kinds.slice(lastData + 1);
        const drops = lastData >= 0 && block.filter((k) => k === "total").length <= cap ? block.length : 0;
        expect(dropped.count).toBe(drops);
        expect(out.length).toBe(rows.length - drops);
        out.forEach((r, i) =>
          expect(kinds[i] === "empty" ? r.every((c) => c === null || c === "") : r).toEqual(kinds[i] === "empty" ? true : rows[i]),
        );
      }),
      { seed: SEED + 1, numRuns: 1000 },
    );
  });

  it("hostile layouts cost bounded time: a 1 MiB sample's worth of cells (200 rows of 5,000), a 1 MB label", () => {
    const wide = Array.from({ length: 200 }, (_, r) => Array.from({ length: 5_000 }, (_, j) => (j % 3 === 0 ? String(r + j) : "x")));
    const started = Date.now();
    expect(findHeader(wide).index).toBe(0);
    expect(isTotalsRow(["Итого" + " ".repeat(1_000_000) + "x", "1"], [false, true])).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

const totals: FooterRule = { kind: "totals", numeric: [1, 2], maxHeld: MAX_HELD_TOTALS };
const data = (n: number): TextRow => [`item ${n}`, String(n), "1,5"];
const empty: TextRow = ["", null, ""];

// The totals hold-back keeps a run of empty rows as a count; a data row after it releases them
// in batches of RELEASE_BATCH (a million `,,` lines under a wide header would be gigabytes at once).
describe("a long run of empty rows released by a data row", () => {
  it("is handed out in batches, in order, never made in one push", () => {
    const filter = new FooterFilter(totals, 3);
    const N = 200_000;
    const out: TextRow[] = [];
    filter.push(data(1), 2, out);
    for (let i = 0; i < N; i++) filter.push(empty, 3 + i, out);
    expect(out).toEqual([data(1)]); // held: a count
    filter.push(data(2), 3 + N, out);
    // Not all 200,001 rows pushed into `out` at once.
    expect(out.length).toBeLessThanOrEqual(RELEASE_BATCH);
    expect(filter.backlogged).toBe(true);
    const batches = [out.length];
    let all = out.length;
    let last: TextRow = [];
    while (filter.backlogged) {
      const batch: TextRow[] = [];
      filter.drain(batch);
      expect(batch.length).toBeLessThanOrEqual(RELEASE_BATCH);
      batches.push(batch.length);
      all += batch.length;
      last = batch[batch.length - 1];
      expect(batch.slice(0, -1).every((r) => r.length === 3 && r.every((c) => c === null))).toBe(true);
    }
    expect(all).toBe(N + 2);
    expect(last).toEqual(data(2));
    // The next row goes straight out again.
    const after: TextRow[] = [];
    filter.push(data(3), 4 + N, after);
    expect(after).toEqual([data(3)]);
    expect(filter.end()).toEqual({ rows: [], count: 0 });
  });

  it("rows pushed while released rows wait keep their place, and a footer after them is still dropped", () => {
    const filter = new FooterFilter(totals, 3);
    const out: TextRow[] = [];
    filter.push(data(1), 2, out);
    for (let i = 0; i < RELEASE_BATCH + 5; i++) filter.push(empty, 3 + i, out);
    filter.push(data(2), 1000_000, out);
    // A caller that pushes before draining (describe's in-memory sample) still gets the file's order.
    filter.push(data(3), 1000_001, out);
    filter.push(["Итого", "5", ""], 1000_002, out);
    filter.drain(out, Infinity);
    expect(out.length).toBe(1 + RELEASE_BATCH + 5 + 2);
    expect(out.slice(-2)).toEqual([data(2), data(3)]);
    expect(filter.end()).toEqual({ count: 1, rows: [{ row: 1000_002, reason: "total", firstCell: "Итого" }] });
  });

  it("/data reads a file with 5,000 empty rows inside and a totals row at the end exactly", async () => {
    const text = `name,n,v\na,1,2\n${",,\n".repeat(5000)}b,3,4\nTotal,4,6\n`;
    await env.DATA.put("gaps.csv.gz", await gzip(text));
    const rows = await table(await post("/data", { table: "gaps" }));
    expect(rows.length).toBe(1 + 1 + 5000 + 1);
    expect(rows[0]).toEqual(["NAME", "N", "V"]);
    expect(rows[1]).toEqual(["a", 1, 2]);
    expect(rows.slice(2, 5002).every((r) => r.length === 3 && r.every((c) => c === null))).toBe(true);
    expect(rows[5002]).toEqual(["b", 3, 4]);
  });
});
