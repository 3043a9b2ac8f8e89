// One convention per column, applied to every cell:
// the cells after a table's sample are read by the convention the sample
// decided, under the same rules inference applies (no leading zeros, no
// exponents, no integer over 15 digits), by the text reading, the byte
// reading and the compiled form alike. A cell that does not fit is a misfit
// (null), never a number read by another convention or rounded.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { describeTable } from "../../src/catalog/describe";
import { compileTable } from "../../src/compiled/compile";
import { compiledForm } from "../../src/compiled/serve";
import { type Config, readConfig } from "../../src/config/config";
import { tableByteRows } from "../../src/formats/byte-rows";
import { tableRows } from "../../src/formats/rows";
import type { Column, Description, NumberFormat, TableEntry } from "../../src/model";
import { answerQuery, answerValues } from "../../src/query/answer";
import { byteWritersFor, cellWritersFor } from "../../src/query/cells";
import { convertersFor, planQuery } from "../../src/query/pipeline";
import type { DataRequest } from "../../src/request/schemas";
import { ByteBuilder } from "../../src/streams/byte-builder";
import { NUMBER_FORMATS, numberShape } from "../../src/values/numbers";
import { answerText, clearBucket, post, put, table } from "../helpers";
import { oneCellRecord } from "../records";

const SEED = 20260620;
const config: Config = readConfig(env);
const SAMPLE = 10_005; // rows before the cells under test: the description's sample (10,000 rows) ends inside them
const entryOf = (key: string): TableEntry => ({
  code: key.replace(/\.(csv|json)$/, "").replace(/\W/g, "_"),
  title: key,
  source: { kind: "r2", key, extension: key.endsWith(".json") ? "json" : "csv", gzip: false },
});

/** A CSV of `header`, SAMPLE rows from `sampleCell(i)`, then `cells`, one per row (quoted where needed). */
function csvOf(delimiter: string, sampleCell: (i: number) => string, cells: readonly string[]): string {
  const q = (c: string) => (/["\r\n]/.test(c) || c.includes(delimiter) || c !== c.trim() ? `"${c.replaceAll('"', '""')}"` : c);
  const lines = [`id${delimiter}v`];
  for (let i = 1; i <= SAMPLE; i++) lines.push(`${i}${delimiter}${q(sampleCell(i))}`);
  cells.forEach((c, k) => lines.push(`${SAMPLE + 1 + k}${delimiter}${q(c)}`));
  return `${lines.join("\r\n")}\r\n`;
}

/** The V column of the rows after the sample, as /data answers them (streamed, and once compiled). */
async function lateValues(key: string, filter?: Record<string, string>): Promise<unknown[]> {
  const rows = await table(await post("/data", { table: entryOf(key).code, ...(filter ? { filter } : {}) }));
  expect(rows[0]).toEqual(["ID", "V"]);
  return rows
    .slice(1)
    .filter((r) => (r[0] as number) > SAMPLE)
    .map((r) => r[1]);
}

/** The whole table answered by answerQuery with the compiled form (dates as YYYY-MM-DD). */
const compiledAnswer = (entry: TableEntry) =>
  answerQuery({ env, config, entry }, { table: entry.code, connection: { date_format: "YYYY-MM-DD" } } as DataRequest, {
    forms: [compiledForm],
  });

async function compiledLateValues(key: string): Promise<unknown[]> {
  expect((await compileTable(env, config, entryOf(key))).status).toBe("compiled");
  const answer = await compiledAnswer(entryOf(key));
  expect(answer.form).toBe("compiled");
  const rows = await answerValues(answer);
  return rows
    .slice(1)
    .filter((r) => (r[0] as number) > SAMPLE)
    .map((r) => r[1]);
}

async function columnType(key: string): Promise<string> {
  const cols = (await (await post("/table_description", { table: entryOf(key).code })).json()) as { code: string; type: string }[];
  return cols.find((c) => c.code === "V")!.type;
}

beforeEach(clearBucket);

describe("item 3: a decimal-comma column reads every later cell with a decimal comma", () => {
  // The sample proves the decimal comma (`12,5`) and holds only values under 1000.
  const sample = (i: number) => `${i % 900},${i % 10}`;
  const late = ["2.000", "15.000", "1.500", "12,5", "7", "1 234,5"];

  it("2.000, 15.000, 1.500 are misfits (null), never 2, 15, 1.5; the filter does not take them for small numbers", async () => {
    await put("qty.csv", csvOf(";", sample, late));
    expect(await columnType("qty.csv")).toBe("double");
    const want = [null, null, null, 12.5, 7, 1234.5];
    expect(await lateValues("qty.csv")).toEqual(want); // the byte reading
    expect(await lateValues("qty.csv", { "<V": "100" })).toEqual([12.5, 7]); // the text reading, through the filter
    expect(await lateValues("qty.csv", { "!V": "" })).toEqual([12.5, 7, 1234.5]);
    expect(await compiledLateValues("qty.csv")).toEqual(want);
  });

  it("a column whose sample groups thousands with `.` (`1.234,5`) reads 1.500 as 1500", async () => {
    await put(
      "de.csv",
      csvOf(";", (i) => (i % 2 ? `1.${String(i % 1000).padStart(3, "0")},5` : `${i % 900},25`), [
        "2.000",
        "15.000",
        "1.500",
        "1.5",
        "12,5",
      ]),
    );
    expect(await lateValues("de.csv")).toEqual([2000, 15000, 1500, null, 12.5]);
    expect(await compiledLateValues("de.csv")).toEqual([2000, 15000, 1500, null, 12.5]);
  });
});

describe("item 4: leading zeros, exponents and long integers after the sample", () => {
  const odd = ["9007199254740993", "1234567890123456", "00012", "1e5", "-007", "123456789012345", "42"];

  it("in an inferred int column they are misfits (null): never rounded, never read as numbers", async () => {
    await put(
      "ids.csv",
      csvOf(",", (i) => String(i), odd),
    );
    expect(await columnType("ids.csv")).toBe("int");
    const want = [null, null, null, null, null, 123456789012345, 42];
    expect(await lateValues("ids.csv")).toEqual(want);
    expect(await lateValues("ids.csv", { ">V": "0" })).toEqual([123456789012345, 42]);
    expect(await compiledLateValues("ids.csv")).toEqual(want);
  });

  it("in an inferred double column too (a fraction keeps a long number a double)", async () => {
    await put(
      "amounts.csv",
      csvOf(",", (i) => `${i}.5`, [...odd, "1234567890123456.5", "0.5", "00.5"]),
    );
    expect(await columnType("amounts.csv")).toBe("double");
    const want = [null, null, null, null, null, 123456789012345, 42, 1234567890123456.5, 0.5, null];
    expect(await lateValues("amounts.csv")).toEqual(want);
    expect(await compiledLateValues("amounts.csv")).toEqual(want);
  });

  it("a column declared int reads 00012 and 1e5 (docs/formats.md), and integers only while exact", async () => {
    await put(
      "declared.csv",
      csvOf(",", (i) => String(i), [...odd, "9007199254740991", "1e300"]),
    );
    await put("declared.csv.schema.json", JSON.stringify({ columns: { v: { type: "int" } } }));
    const want = [null, 1234567890123456, 12, 100000, -7, 123456789012345, 42, 9007199254740991, null];
    expect(await lateValues("declared.csv")).toEqual(want);
    expect(await compiledLateValues("declared.csv")).toEqual(want);
  });
});

describe("the JSON reading follows the same rules", () => {
  it("a JSON number is read as a CSV would hold it (1e-7 is 0.0000001); long integers and text codes are misfits", async () => {
    const records = Array.from({ length: SAMPLE }, (_, i) => `{"id":${i + 1},"v":${i + 1}.5}`);
    const late = [
      '{"id":10006,"v":1e-7}',
      '{"id":10007,"v":9007199254740993}',
      '{"id":10008,"v":"00012"}',
      '{"id":10009,"v":42}',
      '{"id":10010,"v":"1e5"}',
    ];
    await put("j.json", `[${[...records, ...late].join(",\n")}]`);
    expect(await columnType("j.json")).toBe("double");
    expect(await lateValues("j.json")).toEqual([1e-7, null, null, 42, null]);
  });
});

// ---- every cell, every path ------------------------------------------------

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: min, maxLength: max });
const SPECIAL = [
  "",
  " ",
  "0",
  "-0",
  "+5",
  "00",
  "007",
  "00012",
  "0.5",
  ".5",
  ",5",
  "00.5",
  "1e5",
  "1E-2",
  "-1e3",
  "2.000",
  "15.000",
  "1.500",
  "1,5",
  "12,500",
  "1.234,56",
  "1,234.56",
  "12 500,50",
  "12\u00a0500,50",
  "1'234.5",
  "$1,234.50",
  "(1,234.50)",
  "7.50%",
  "12%",
  "1 234,56 руб.",
  "9007199254740993",
  "9007199254740992",
  "1234567890123456",
  "123456789012345",
  "999999999999999",
  "-999999999999999",
  "1234567890123456.5",
  "12345678901234567890",
  "1.2.3",
  "1,2,3",
  "1 2",
  "--5",
  "$",
  "()",
  "abc",
  "1.0",
  "100%",
];
const numberish = fc
  .tuple(
    fc.constantFrom("", "-", "+", "(", "$", "-$"),
    digits(1, 17),
    fc.array(fc.tuple(fc.constantFrom(".", ",", " ", "\u00a0", "'"), digits(1, 4)), { maxLength: 3 }),
    fc.constantFrom("", "", "e5", "E-2", "%", " €", " руб.", ")"),
  )
  .map(([a, b, seps, z]) => `${a}${b}${seps.map(([s, d]) => s + d).join("")}${z}`);
const cell = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 5, arbitrary: numberish },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

/** The conventions a test column is decided with: a sample that proves it, the file's delimiter, a sidecar. */
const COLUMNS: {
  name: string;
  delimiter: string;
  sample: (i: number) => string;
  format: NumberFormat;
  type: "int" | "double";
  declared?: boolean;
}[] = [
  { name: "int, plain", delimiter: ",", sample: (i) => String(i), format: { decimal: ".", group: "," }, type: "int" },
  {
    name: "double, 1,234.5",
    delimiter: ",",
    sample: (i) => `${(i % 900) + 1},${String(i % 1000).padStart(3, "0")}.5`,
    format: { decimal: ".", group: "," },
    type: "double",
  },
  {
    name: "double, decimal comma, no group seen",
    delimiter: ";",
    sample: (i) => `${i % 900},5`,
    format: { decimal: ",", group: " " },
    type: "double",
  },
  {
    name: "double, 1.234,5",
    delimiter: ";",
    sample: (i) => `1.${String(i % 1000).padStart(3, "0")},5`,
    format: { decimal: ",", group: "." },
    type: "double",
  },
  {
    name: "double, declared, plain sample",
    delimiter: ",",
    sample: (i) => `${i}.5`,
    format: { decimal: ".", group: "," },
    type: "double",
    declared: true,
  },
  {
    name: "int, declared, decimal comma",
    delimiter: ";",
    sample: (i) => String(i),
    format: { decimal: ",", group: " " },
    type: "int",
    declared: true,
  },
];

const zero = (v: unknown) => (v === 0 ? 0 : v);
const bit = (f: NumberFormat) => 1 << NUMBER_FORMATS.findIndex((g) => g.decimal === f.decimal && g.group === f.group);

/** The convention's rules are inference's: an inferred column's cell is a number exactly when inference reads it so; no integer is rounded. */
function followsRules(c: (typeof COLUMNS)[number], t: string, value: unknown): void {
  if (!c.declared) {
    const shape = numberShape(t);
    const fits = shape !== null && (shape.fits & bit(c.format)) !== 0;
    expect(value !== null).toBe(fits && (c.type === "double" || Number.isInteger(value)));
  }
  if (typeof value === "number" && Number.isInteger(value)) expect(Math.abs(value)).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
}

/** A one-column description as describe makes it (for the writers on their own). */
function described(c: (typeof COLUMNS)[number]): Description {
  const column: Column = {
    code: "V",
    name: "v",
    type: c.type,
    slashOrder: "dmy",
    numberFormat: c.format,
    ...(c.declared ? { declared: true } : {}),
  };
  return { reader: null as never, keys: ["v"], header: ["v"], columns: [column], decimalComma: c.delimiter !== "," };
}

/** What the byte writer answers for one cell, as the scanner hands it (plain, or quoted with doubled quotes). */
function byByteWriter(d: Description, text: string): string {
  const writers = byteWritersFor(d, cellWritersFor(d));
  const rec = oneCellRecord(text);
  const out = new ByteBuilder(64);
  writers[0](out, rec, 0);
  return new TextDecoder().decode(out.take());
}

function byTextWriter(d: Description, text: string): string {
  const out = new ByteBuilder(64);
  cellWritersFor(d)[0](out, text);
  return new TextDecoder().decode(out.take());
}

describe("property: for any cell, the text writer, the byte writer and the filter's converter agree", () => {
  it.each(COLUMNS)("$name", (c) => {
    const d = described(c);
    const convert = convertersFor(d)[0];
    fc.assert(
      fc.property(cell, (t) => {
        const value = convert(t);
        const text = byTextWriter(d, t);
        expect(zero(JSON.parse(text))).toEqual(zero(value)); // JSON has one zero
        expect(byByteWriter(d, t)).toBe(text);
        followsRules(c, t, value);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });
});

/** The streaming answer of a /data request, read as text records or as byte records. */
async function streamed(entry: TableEntry, bytewise: boolean): Promise<unknown[][]> {
  const { description, bytes } = await describeTable(env, config, entry);
  const plan = planQuery(description, { table: entry.code } as DataRequest, "YYYY-MM-DD");
  const byteRows = bytewise ? tableByteRows(bytes, description) : null;
  if (bytewise) expect(byteRows).not.toBeNull();
  const rows = byteRows ?? tableRows(bytes, description);
  return JSON.parse(await answerText(description, plan, rows)) as unknown[][];
}

describe("property: for any cells after the sample, the text reading, the byte reading and the compiled form answer the same values", () => {
  it.each(COLUMNS)("$name", async (c) => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(cell, { minLength: 1, maxLength: 150 }), async (cells) => {
        const key = `p${run++}.csv`;
        await put(key, csvOf(c.delimiter, c.sample, cells));
        if (c.declared) await put(`${key}.schema.json`, JSON.stringify({ columns: { v: { type: c.type } } }));
        const entry = entryOf(key);
        const { description } = await describeTable(env, config, entry, { prefixOnly: true });
        expect(description.columns[1]).toMatchObject({ type: c.type, numberFormat: c.format });
        const convert = convertersFor(description)[1];
        const want = cells.map((t) => zero(convert(t)));
        cells.forEach((t, k) => followsRules(c, t, want[k]));
        const late = (rows: unknown[][]) => rows.slice(1 + SAMPLE).map((r) => zero(r[1]));
        expect(late(await streamed(entry, false))).toEqual(want);
        expect(late(await streamed(entry, true))).toEqual(want);
        expect((await compileTable(env, config, entry)).status).toBe("compiled");
        const answer = await compiledAnswer(entry);
        expect(answer.form).toBe("compiled");
        expect(late(await answerValues(answer))).toEqual(want);
      }),
      { seed: SEED, numRuns: 4 },
    );
  });
});
