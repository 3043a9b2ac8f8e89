// Review: the description typed every row of its sample at the table's full
// width: 10,000 lines under a 20,000-column header were 2·10⁸ slots (1.6 GB),
// and 10,000 JSON objects with one new key each 10⁸ (from well under 1 MiB
// of file). The sample is now typed within SAMPLE_CELLS (rows × columns):
// a wide table is typed from its first rows, as a long one is from its first
// 10,000.
import { describe, expect, it } from "vitest";
import { describeStream, SAMPLE_CELLS } from "../src/catalog/describe";
import type { TableEntry } from "../src/model";

const enc = new TextEncoder();
async function* once(text: string) {
  yield enc.encode(text);
}
const entryOf = (key: string, extension: string): TableEntry => ({ code: "t", title: key, source: { kind: "r2", key, extension, gzip: false } });

async function describeText(key: string, extension: string, text: string) {
  const { description, bytes } = await describeStream(entryOf(key, extension), once(text), undefined);
  await bytes.return(undefined);
  return description;
}

describe("the sample is typed within SAMPLE_CELLS", () => {
  it("JSON objects with a new key each: the columns of the first 2,048 records (2,048² = SAMPLE_CELLS)", async () => {
    const text = `[${Array.from({ length: 10_000 }, (_, i) => `{"k${i}":${i}}`).join(",")}]`;
    const d = await describeText("t.json", "json", text);
    // Before: 10,000 columns, each typed over 10,000 records.
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
    // Before: every row typed, so "x" made these text.
    expect(d.columns.slice(0, 3).map((c) => c.type)).toEqual(["int", "int", "string"]);
  });

  it("a narrow table is typed from all its sample rows, as before", async () => {
    const d = await describeText("n.csv", "csv", `a,b\n${"1,2\n".repeat(9000)}x,y\n`);
    expect(d.columns.map((c) => c.type)).toEqual(["string", "string"]);
  });
});
