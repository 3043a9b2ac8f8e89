// Review: a record is padded to the table's width when it is read, and the
// rows of one reader batch were handed on together. A header of 20,000
// columns (140 KB) above 60,000 lines of `1` (120 KB) made every 64 KB chunk
// ~32,000 rows × 20,000 slots: 5 GB at once (any isolate dies far earlier).
// Rows are now handed on in batches bounded by cells.
import { describe, expect, it } from "vitest";
import { describeStream } from "../../src/catalog/describe";
import { ROW_BATCH_CELLS, tableRows } from "../../src/formats/rows";
import type { TableEntry } from "../../src/model";

const enc = new TextEncoder();
async function* chunks(text: string, size = 1 << 16) {
  const bytes = enc.encode(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
const entry: TableEntry = { code: "wide", title: "wide.csv", source: { kind: "r2", key: "wide.csv", extension: "csv", gzip: false } };

describe("rows of a wide table are handed on in batches bounded by cells", () => {
  it("20,000 columns, 30,000 short rows: every batch ≤ ROW_BATCH_CELLS slots (one row at least), all rows read", async () => {
    const width = 20_000;
    const header = Array.from({ length: width }, (_, i) => `c${i}`).join(",");
    const text = `${header}\n${"1\n".repeat(30_000)}`;
    const { description, bytes } = await describeStream(entry, chunks(text), undefined);
    await bytes.return(undefined);
    let rows = 0;
    let largest = 0;
    for await (const batch of tableRows(chunks(text), description)) {
      largest = Math.max(largest, batch.length * width);
      for (const r of batch) {
        if (r.length !== width || r[0] !== "1" || r[width - 1] !== null) throw new Error(`row ${rows + 1}: ${r.length} wide, starts ${r[0]}`);
        rows++;
      }
    }
    expect(rows).toBe(30_000);
    expect(largest).toBeLessThanOrEqual(Math.max(ROW_BATCH_CELLS, width));
  });
});
