// Pure modules: naming, number and date recognition, type inference.
import { describe, expect, it } from "vitest";
import { inferTypes } from "../../src/catalog/infer";
import { assignFieldCodes, assignTableCodes, baseTableCode, shortHash, tableKeyInfo } from "../../src/rules/naming";
import { parseDate, parseDateTime } from "../../src/values/dates";
import { parseNumber } from "../../src/values/numbers";

describe("table codes", () => {
  it.each([
    ["sales.csv", "sales"],
    ["Sales/2025 Q1.CSV", "sales_2025_q1"],
    ["2025.csv", "t_2025"],
    ["отчёты/Продажи.csv.gz", "otchety_prodazhi"],
    ["--.json", "table"],
    ["a".repeat(300) + ".csv", "a".repeat(230)],
  ])("%s → %s", (key, code) => expect(baseTableCode(key)).toBe(code));

  it("keeps codes unique with a stable suffix for every key but the first", () => {
    const codes = assignTableCodes(["sales.json", "sales.csv", "Sales.csv.gz", "other.csv"]);
    expect(codes.get("Sales.csv.gz")).toBe("sales");
    expect(codes.get("sales.csv")).toBe(`sales_${shortHash("sales.csv")}`);
    expect(codes.get("sales.json")).toBe(`sales_${shortHash("sales.json")}`);
    expect(codes.get("other.csv")).toBe("other");
    expect(assignTableCodes(["plan.csv"], new Set(["plan"])).get("plan.csv")).toBe(`plan_${shortHash("plan.csv")}`);
  });

  it.each([
    ["a.csv", { extension: "csv", gzip: false }],
    ["a.TSV.gz", { extension: "tsv", gzip: true }],
    ["x/a.jsonl", { extension: "jsonl", gzip: false }],
    ["a.csv.schema.json", null],
    [".versions/a.csv/1", null],
    ["dir/.hidden/a.csv", null],
    // Workbooks are tables (formats/xlsx); .xls is not (refused at upload with a conversion hint).
    ["a.xlsx", { extension: "xlsx", gzip: false }],
    ["a.XLSM", { extension: "xlsm", gzip: false }],
    ["a.xls", null],
  ])("table key %s", (key, info) => expect(tableKeyInfo(key)).toEqual(info));
});

describe("field codes", () => {
  it("transliterates, uppercases and de-duplicates headers", () => {
    expect(
      assignFieldCodes([
        "Дата продажи",
        "Сумма, руб.",
        "Сумма, руб.",
        "",
        "1st place",
        "Café №",
        "Ёлка-й",
        "x".repeat(40),
        "x".repeat(40),
        "Їжак",
      ]),
    ).toEqual([
      "DATA_PRODAZHI",
      "SUMMA_RUB",
      "SUMMA_RUB_2",
      "COLUMN_4",
      "F_1ST_PLACE",
      "CAFE_NO",
      "ELKA_Y",
      "X".repeat(32),
      "X".repeat(30) + "_2",
      "YIZHAK",
    ]);
  });
  it("always yields valid portal field names", () => {
    for (const code of assignFieldCodes(["!!!", "№", "_a_", "Ж".repeat(20), "9"])) expect(code).toMatch(/^[A-Z][A-Z0-9_]{0,31}$/);
  });
});

describe("numbers", () => {
  it.each([
    ["1234.56", false, 1234.56],
    ["-0.5", false, -0.5],
    ["1e3", false, 1000],
    ["1234,56", true, 1234.56],
    ["1 234 567,89", true, 1234567.89],
    ["1\u00a0234,5", true, 1234.5],
    ["1234,56", false, null],
    ["12abc", true, null],
    ["", true, null],
  ])("%s (decimal comma %s) → %s", (text, comma, n) => expect(parseNumber(text, comma)).toBe(n));
});

describe("dates", () => {
  it.each([
    ["2024-01-31", "dmy", "2024-01-31", "2024-01-31 00:00:00"],
    ["31.01.2024", "dmy", "2024-01-31", "2024-01-31 00:00:00"],
    ["31.01.2024 23:59:59", "dmy", "2024-01-31", "2024-01-31 23:59:59"],
    ["31.01.2024 0:05", "dmy", "2024-01-31", "2024-01-31 00:05:00"],
    ["01/31/2024", "mdy", "2024-01-31", "2024-01-31 00:00:00"],
    ["31/01/2024", "dmy", "2024-01-31", "2024-01-31 00:00:00"],
    ["01/31/2024 11:59:59 pm", "mdy", "2024-01-31", "2024-01-31 23:59:59"],
    ["01/31/2024 12:00:00 am", "mdy", "2024-01-31", "2024-01-31 00:00:00"],
    ["01/31/2024 12:30:00 PM", "mdy", "2024-01-31", "2024-01-31 12:30:00"],
    ["2024-03-01T10:15:00.123Z", "dmy", "2024-03-01", "2024-03-01 10:15:00"],
    ["2024-03-01T10:15:00+03:00", "dmy", "2024-03-01", "2024-03-01 10:15:00"],
    ["31.12.9999 23:59:59", "dmy", "9999-12-31", "9999-12-31 23:59:59"],
    ["29.02.2024", "dmy", "2024-02-29", "2024-02-29 00:00:00"],
    ["29.02.2023", "dmy", null, null],
    ["31/01/2024", "mdy", null, null],
    ["2024-13-01", "dmy", null, null],
    ["13:00 pm 2024", "dmy", null, null],
    ["01/31/2024 13:00:00 pm", "mdy", "2024-01-31", null],
    ["2024-02-30", "dmy", null, null],
    ["30.02.2024 10:00:00", "dmy", null, null],
    ["2024-01-31 24:00:00", "dmy", null, null],
    ["2024-01-31 23:60:00", "dmy", null, null],
    ["0000-01-01", "dmy", null, null],
  ] as const)("%s (%s)", (text, order, date, datetime) => {
    expect(parseDateTime(text, order)).toBe(datetime);
    if (datetime !== null) expect(parseDate(text, order)).toBe(date);
  });
});

describe("type inference", () => {
  const infer = (values: (string | null)[], comma = false) =>
    inferTypes(
      values.map((v) => [v]),
      1,
      comma,
    )[0];
  it.each([
    [["1", "-20", "", null], false, "int"],
    [["1", "2.5"], false, "double"],
    [["1234,56", "7"], true, "double"],
    // A decimal comma is evidence on its own (1234 cannot be a thousands group).
    [["1234,56"], false, "double"],
    [["12,500"], false, "string"],
    [["007", "8"], false, "string"],
    [["1e5"], false, "string"],
    [["1234567890123456"], false, "string"],
    [["2024-01-31", "31.01.2024"], false, "date"],
    [["2024-01-31", "2024-01-31 10:00:00"], false, "datetime"],
    [["2024-01-31", "x"], false, "string"],
    [["", null], false, "string"],
  ])("%j → %s", (values, comma, type) => expect(infer(values, comma).type).toBe(type));

  it("decides the slash order from the values that only fit one", () => {
    expect(infer(["01/02/2024", "01/31/2024"])).toMatchObject({ type: "date", slashOrder: "mdy" });
    expect(infer(["01/02/2024", "31/01/2024"])).toMatchObject({ type: "date", slashOrder: "dmy" });
    expect(infer(["31/01/2024", "01/31/2024"]).type).toBe("string");
  });
});
