// Describing a table (catalog/describe.ts): trailing unnamed, empty columns are
// dropped in one pass (a header of 200,000 commas above 10,000 short lines
// would otherwise cost 2·10⁹ looks), and the sample is typed within
// SAMPLE_CELLS (rows × columns): a wide table is typed from its first rows, as
// a long one is from its first 10,000.
import { describe, expect, it } from "vitest";
import { describeStream, SAMPLE_CELLS } from "../../src/catalog/describe";
import type { TableEntry } from "../../src/model";

const enc = new TextEncoder();
async function* once(text: string) {
  yield enc.encode(text);
}
const entry: TableEntry = { code: "t", title: "t.csv", source: { kind: "r2", key: "t.csv", extension: "csv", gzip: false } };

const columnsOf = async (text: string) => {
  const { description, bytes } = await describeStream(entry, once(text), undefined);
  await bytes.return(undefined);
  return description.columns.map((c) => c.code);
};

describe("trailing unnamed empty columns", () => {
  it("a header of 200,000 commas over 10,000 short rows is described in one pass (under 1.5 s)", async () => {
    const text = `a,b${",".repeat(200_000)}\n${"1,2\n".repeat(10_000)}`;
    const started = performance.now();
    expect(await columnsOf(text)).toEqual(["A", "B"]);
    // Wall time of the call (~0.2 s here; one look per row per dropped column would be ~9 s).
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it.each([
    ["a;b;c;;;\n1;2;3;;;\n", ["A", "B", "C"]],
    ["a;b;;\n1;2;;x\n", ["A", "B", "COLUMN_3", "COLUMN_4"]],
    // The layout takes "4;;5" for the header, before and after.
    ["a;;;\n1;;;\n4;;5;\n", ["F_4", "COLUMN_2", "F_5"]],
    [";;\n;;\n", ["COLUMN_1"]],
  ])("%j → %j", async (text, codes) => {
    expect(await columnsOf(text)).toEqual(codes);
  });
});

const entryOf = (key: string, extension: string): TableEntry => ({
  code: "t",
  title: key,
  source: { kind: "r2", key, extension, gzip: false },
});

async function describeText(key: string, extension: string, text: string) {
  const { description, bytes } = await describeStream(entryOf(key, extension), once(text), undefined);
  await bytes.return(undefined);
  return description;
}

describe("the sample is typed within SAMPLE_CELLS", () => {
  it("JSON objects with a new key each: the columns of the first 2,048 records (2,048² = SAMPLE_CELLS)", async () => {
    const text = `[${Array.from({ length: 10_000 }, (_, i) => `{"k${i}":${i}}`).join(",")}]`;
    const d = await describeText("t.json", "json", text);
    // Not 10,000 columns, each typed over 10,000 records.
    expect(d.columns.length).toBe(2048);
    expect(d.columns[2047]).toMatchObject({ name: "k2047", type: "int" });
    expect(SAMPLE_CELLS).toBe(2048 * 2048);
  });

  it("20,000 columns: typed from the first 209 rows (209 × 20,000 ≤ SAMPLE_CELLS)", async () => {
    const width = 20_000;
    const header = Array.from({ length: width }, (_, i) => `c${i}`).join(",");
    const text = `${header}\n${"1,2\n".repeat(209)}${"x,y\n".repeat(3000)}`;
    const d = await describeText("t.csv", "csv", text);
    expect(d.columns.length).toBe(width);
    // Typing every row would see "x" and make these text.
    expect(d.columns.slice(0, 3).map((c) => c.type)).toEqual(["int", "int", "string"]);
  });

  it("a narrow table is typed from all its sample rows", async () => {
    const d = await describeText("n.csv", "csv", `a,b\n${"1,2\n".repeat(9000)}x,y\n`);
    expect(d.columns.map((c) => c.type)).toEqual(["string", "string"]);
  });
});
