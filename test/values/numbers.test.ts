// Numbers as people write them (docs/design/xlsx-and-exports.md §8):
// thousands separators, currency before or after, accounting negatives and
// percent, under one convention per column decided from the column's values.
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { inferTypes } from "../../src/catalog/infer";
import type { NumberFormat } from "../../src/model";
import { converterFor } from "../../src/values/convert";
import { MAX_NUMBER_CHARS, NUMBER_FORMATS, numberShape, readNumber } from "../../src/values/numbers";
import { clearBucket, post, put, table } from "../helpers";

const SEED = 20261201;
const EN: NumberFormat = { decimal: ".", group: "," };
const DE: NumberFormat = { decimal: ",", group: "." };
const RU: NumberFormat = { decimal: ",", group: " " };
const CH: NumberFormat = { decimal: ".", group: "'" };

describe("a cell under its column's convention", () => {
  it.each([
    ["$1,234.50", EN, 1234.5],
    ["1,234.56", EN, 1234.56],
    ["(1,234.50)", EN, -1234.5],
    ["(75.25)", EN, -75.25],
    ["-$1,234.50", EN, -1234.5],
    ["$-5", EN, -5],
    ["12%", EN, 0.12],
    ["7.50%", EN, 0.075],
    ["100%", EN, 1],
    ["USD 12,000", EN, 12000],
    ["12,000 usd", EN, 12000],
    ["1.234,56 €", DE, 1234.56],
    ["149,90 €", DE, 149.9],
    ["1.234", DE, 1234], // `.` groups thousands here: never the plain reading
    ["12\u00a0500,50", RU, 12500.5],
    ["61 234,56 ₽", RU, 61234.56],
    ["1 234,56 руб.", RU, 1234.56],
    ["202 583,52 р.", RU, 202583.52],
    ["1\u202f000", RU, 1000],
    ["(1 234,50)", RU, -1234.5],
    ["12 %", RU, 0.12],
    ["1'234.50", CH, 1234.5],
    // What inference takes for text is no number after the sample either; `.` is no decimal point where `,` is one.
    ["1e3", EN, null],
    ["007", RU, null],
    ["1.5", RU, null],
    ["1234567890123456", EN, null],
    ["123456789012345", EN, 123456789012345],
    // Not numbers: a misfit, never a guess.
    ["1,23,456", EN, null],
    ["1,234.56", DE, null],
    ["$", EN, null],
    ["()", EN, null],
    ["--5", EN, null],
    ["12 500,50 EUR 3", RU, null],
    ["31.01.2024", DE, null],
    ["1 234", EN, null],
  ] as const)("%j (%j) → %s", (text, format, value) => {
    expect(readNumber(text, format)).toBe(value);
  });

  it.each([
    ["1e3", EN, 1000],
    ["2.5E-3", EN, 0.0025],
    ["2.5e-3", RU, null], // `.` is not this column's decimal separator
    ["007", RU, 7],
    ["-007,5", RU, -7.5],
    ["1.5", RU, null],
    ["1234567890123456", EN, 1234567890123456],
    ["9007199254740991", EN, 9007199254740991],
    ["9007199254740993", EN, null], // no double holds it: never rounded
    ["1e300", EN, null],
  ] as const)("a declared column also reads %j (%j) → %s", (text, format, value) => {
    expect(readNumber(text, format, true)).toBe(value);
  });

  it("a sidecar-declared double column reads by the column's convention", () => {
    expect(converterFor("double", { decimalComma: false, slashOrder: "mdy", numberFormat: EN })("$1,234.50")).toBe(1234.5);
    expect(converterFor("int", { decimalComma: false, slashOrder: "mdy", numberFormat: RU })("12 500")).toBe(12500);
    expect(converterFor("int", { decimalComma: false, slashOrder: "mdy", numberFormat: RU })("12 500,5")).toBeNull();
  });
});

describe("a column's convention, from all its values", () => {
  const infer = (values: string[], decimalComma = false, declared?: "." | ",") =>
    inferTypes(
      values.map((v) => [v]),
      1,
      { decimalComma, ...(declared ? { declared } : {}) },
    )[0];
  it.each([
    // The excel-en-utf8 columns.
    [["$1,234.50", "$980.00", "$12,000.00", "$0.99"], false, "double", EN],
    [["1,234.56", "17.5", "2,000.00", "1"], false, "double", EN],
    [["(1,234.50)", "250.00", "(75.25)", ""], false, "double", EN],
    [["12%", "0%", "7.50%", "100%"], false, "double", EN],
    [["1001", "1002"], false, "int", EN],
    // 1C and Excel ru/de.
    [["12\u00a0500,50", "31\u00a0000,00", "7\u00a0200,00"], true, "double", RU],
    [["1.234,56 €", "149,90 €", "4,99 €"], true, "double", DE],
    [["61 234,56 руб.", "899,90 руб."], true, "double", RU],
    [["5", "2", "14"], true, "int", RU],
    // Leading zeros: a code.
    [["00123", "00456", "01789"], true, "string", RU],
    [["0", "0,5", "0.5"], false, "string", EN], // no one convention reads both 0,5 and 0.5
    // Ambiguous alone: `12,500` is 12.5 or 12500.
    [["12,500", "3,000"], false, "string", EN],
    [["12,500", "3,000"], true, "double", RU],
    [["12,500", "3,000", "1,234.5"], false, "double", EN],
    [["12,500", "3,000", "1.234,5"], false, "double", DE],
    [["1.500"], false, "double", EN],
    [["1.500"], true, "int", DE],
    [["1.500", "2.000,75"], true, "double", DE],
    [["1 000", "12 345"], false, "int", { decimal: ".", group: " " }],
  ] as const)("%j (decimal comma %s) → %s", (values, comma, type, format) => {
    const got = infer([...values], comma);
    expect(got.type).toBe(type);
    if (type !== "string") expect(got.numberFormat).toEqual(format);
  });

  it("takes an undecided column's convention from the file's other columns", () => {
    const rows = [
      ["12,500", "1,234.56"],
      ["3,000", "17.5"],
    ];
    const [a, b] = inferTypes(rows, 2, { decimalComma: false });
    expect(a).toMatchObject({ type: "int", numberFormat: EN });
    expect(b).toMatchObject({ type: "double", numberFormat: EN });
    const [c] = inferTypes([["12,500", "1.234,56"]], 2, { decimalComma: false });
    expect(c).toMatchObject({ type: "double", numberFormat: { decimal: "," } });
  });

  it("month-first dates in another column say en-US: `1,234` is 1234", () => {
    const [amount] = inferTypes(
      [
        ["1,234", "1/31/2024"],
        ["567", "2/1/2024"],
      ],
      2,
      { decimalComma: false },
    );
    expect(amount).toMatchObject({ type: "int", numberFormat: EN });
    // Day-first or dotted dates say nothing (dd/mm is written with either separator).
    expect(inferTypes([["1,234", "31/01/2024"]], 2, { decimalComma: false })[0].type).toBe("string");
  });

  it("the sidecar's decimalSeparator settles it", () => {
    expect(infer(["12,500"], false, ",")).toMatchObject({ type: "double", numberFormat: { decimal: "," } });
    expect(infer(["12,500"], true, ".")).toMatchObject({ type: "int", numberFormat: EN });
  });
});

/** A number written the way a convention writes it, and its exact value. */
const written = fc
  .record({
    format: fc.integer({ min: 0, max: NUMBER_FORMATS.length - 1 }),
    int: fc.bigInt({ min: 0n, max: 10n ** 12n }),
    fraction: fc.stringMatching(/^\d{0,3}$/),
    negative: fc.constantFrom("", "-", "()"),
    currency: fc.constantFrom("", "$", "€ ", "£", " ₽", " руб.", " р.", "EUR ", " USD", "RUB"),
    percent: fc.boolean(),
    space: fc.constantFrom(" ", "\u00a0", "\u202f"),
  })
  .map((r) => {
    const f = NUMBER_FORMATS[r.format];
    const digits = r.int.toString();
    let body = "";
    for (let i = 0; i < digits.length; i++) {
      if (i > 0 && (digits.length - i) % 3 === 0 && f.group !== "") body += f.group === " " ? r.space : f.group;
      body += digits[i];
    }
    if (r.fraction !== "") body += f.decimal + r.fraction;
    if (r.percent) body += "%";
    const before = r.currency !== "" && !r.currency.startsWith(" ") && !r.percent;
    const after = r.currency.startsWith(" ") && !r.percent;
    let text = `${before ? r.currency : ""}${body}${after ? r.currency : ""}`;
    text = r.negative === "-" ? `-${text}` : r.negative === "()" ? `(${text})` : text;
    const exact = Number(`${digits}${r.fraction ? `.${r.fraction}` : ""}${r.percent ? "e-2" : ""}`);
    return { text, format: f, value: r.negative !== "" && exact !== 0 ? -exact : r.negative !== "" ? -0 : exact };
  });

describe("round trip (fast-check, fixed seed)", () => {
  it("a number formatted in any convention reads back exactly under it", () => {
    fc.assert(
      fc.property(written, ({ text, format, value }) => {
        expect(readNumber(text, format)).toBe(value);
        const shape = numberShape(text);
        expect(shape).not.toBeNull();
        expect(shape!.fits & (1 << NUMBER_FORMATS.indexOf(format))).not.toBe(0);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("a numeric column reads every value exactly as it was written, when the table's default agrees with the writer", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: NUMBER_FORMATS.length - 1 }),
        fc.array(written, { minLength: 1, maxLength: 30 }),
        (f, cells) => {
          const format = NUMBER_FORMATS[f];
          const own = cells.filter((c) => c.format === format);
          fc.pre(own.length > 0);
          const comma = format.decimal === ",";
          const [got] = inferTypes(
            own.map((c) => [c.text]),
            1,
            { decimalComma: comma },
          );
          // Text is allowed (nothing proved the convention); a wrong number is not.
          if (got.type === "string") return;
          const read = converterFor(got.type, { decimalComma: comma, slashOrder: "mdy", numberFormat: got.numberFormat });
          for (const c of own) expect(read(c.text)).toBe(c.value);
        },
      ),
      { seed: SEED + 1, numRuns: 3000 },
    );
  });

  it("a column written in one convention with a value that fixes it (both separators) is read exactly", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: NUMBER_FORMATS.length - 1 }),
        fc.array(written, { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        (f, cells, comma) => {
          const format = NUMBER_FORMATS[f];
          fc.pre(format.group !== "");
          // Rewrite every cell in `format`, and add 1<group>234<decimal>5, which only `format` reads.
          const rewritten = cells.map((c) => {
            const value = readNumber(c.text, c.format)!;
            return { text: c.text, value, own: c.format === format };
          });
          const g = format.group === " " ? "\u00a0" : format.group;
          const fixing = `1${g}234${format.decimal}5`;
          const texts = [...rewritten.filter((c) => c.own).map((c) => c.text), fixing];
          const [got] = inferTypes(
            texts.map((t) => [t]),
            1,
            { decimalComma: comma },
          );
          // A column of a leading-zero value or a 16-digit integer is text; else numeric, in exactly this convention.
          if (texts.some((t) => numberShape(t) === null)) return;
          expect(got.type).toBe("double");
          expect(got.numberFormat).toEqual(format);
          const read = converterFor("double", { decimalComma: comma, slashOrder: "mdy", numberFormat: got.numberFormat });
          expect(read(fixing)).toBe(1234.5);
          for (const c of rewritten.filter((x) => x.own)) expect(read(c.text)).toBe(c.value);
        },
      ),
      { seed: SEED + 2, numRuns: 500 },
    );
  });
});

describe("hostile tokens", () => {
  it("cost time linear in their length (the length cap), whatever their shape", () => {
    const shapes = [
      "1".repeat(1_000_000) + "x",
      "1,".repeat(500_000),
      "(".repeat(300_000) + "1" + ")".repeat(300_000),
      "$".repeat(1_000_000),
      "1 ".repeat(500_000) + "руб.",
    ];
    const started = Date.now();
    for (const s of shapes) {
      expect(numberShape(s)).toBeNull();
      expect(readNumber(s, RU)).toBeNull();
    }
    // Tokens at the cap, of every separator pattern.
    const atCap = [
      "1,".repeat(MAX_NUMBER_CHARS / 2 - 1) + "12",
      "1 234".repeat(12).slice(0, MAX_NUMBER_CHARS),
      `(${"9".repeat(MAX_NUMBER_CHARS - 2)})`,
    ];
    for (let i = 0; i < 20_000; i++) for (const s of atCap) numberShape(s), readNumber(s, EN);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("end to end", () => {
  beforeEach(clearBucket);

  it("serves a sidecar-declared double on `$1,234.50` as 1234.5 (it was empty)", async () => {
    await put("money.csv", 'id,amount,note\n1,"$1,234.50",x\n2,"$980.00",y\n3,n/a,z\n');
    await put("money.csv.schema.json", JSON.stringify({ columns: { amount: { type: "double" } } }));
    expect(await table(await post("/data", { table: "money" }))).toEqual([
      ["ID", "AMOUNT", "NOTE"],
      [1, 1234.5, "x"],
      [2, 980, "y"],
      [3, null, "z"],
    ]);
  });

  it("filters compare numbers on formatted columns", async () => {
    await put("de.csv", "Artikel;Betrag\nA;1.234,56 €\nB;149,90 €\nC;2.349,00 €\n");
    const body = { table: "de", select: ["ARTIKEL", "BETRAG"], filter: { ">=BETRAG": ["1000"] } };
    expect(await table(await post("/data", body))).toEqual([
      ["ARTIKEL", "BETRAG"],
      ["A", 1234.56],
      ["C", 2349],
    ]);
    expect(await table(await post("/data", { table: "de", filter: { "=BETRAG": ["149.9"] } }))).toEqual([
      ["ARTIKEL", "BETRAG"],
      ["B", 149.9],
    ]);
  });

  it("answers `1.234` in a column whose `.` groups thousands as 1234, not 1.234 (it was copied as it is)", async () => {
    await put("de2.csv", "Artikel;Betrag\nA;1.234,56\nB;1.234\nC;149,90\nD;2.349\n");
    expect(await table(await post("/data", { table: "de2" }))).toEqual([
      ["ARTIKEL", "BETRAG"],
      ["A", 1234.56],
      ["B", 1234],
      ["C", 149.9],
      ["D", 2349],
    ]);
  });
});
