// Rows are handed on in batches bounded by cells, not by reader chunks: a
// record is padded to the table's width when it is read, so a 20,000-column
// header above 60,000 lines of `1` would make every 64 KB chunk ~32,000 rows ×
// 20,000 slots, and a 35-byte `<row><c r="XFC1">…` sheet row is a record of
// 16,383 slots.
import { describe, expect, it } from "vitest";
import { describeStream } from "../../src/catalog/describe";
import { ROW_BATCH_CELLS, tableRows } from "../../src/formats/rows";
import { BATCH_CELLS, sheetRecords } from "../../src/formats/xlsx/sheet";
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
        if (r.length !== width || r[0] !== "1" || r[width - 1] !== null)
          throw new Error(`row ${rows + 1}: ${r.length} wide, starts ${r[0]}`);
        rows++;
      }
    }
    expect(rows).toBe(30_000);
    expect(largest).toBeLessThanOrEqual(Math.max(ROW_BATCH_CELLS, width));
  });
});

async function* once(text: string) {
  yield enc.encode(text);
}

describe("wide sheet rows are handed on in batches bounded by cells", () => {
  it("2,000 rows of one cell at XFC in one chunk: no batch holds more than BATCH_CELLS slots (plus one slice of XML)", async () => {
    const rows = Array.from(
      { length: 2000 },
      (_, i) => `<row r="${i + 1}"><c r="A${i + 1}"><v>${i}</v></c><c r="XFC${i + 1}"><v>1</v></c></row>`,
    ).join("");
    const xml = `<worksheet><sheetData>${rows}</sheetData></worksheet>`;
    const ctx = { part: "sheet1.xml", strings: null, styleKinds: [], date1904: false };
    let count = 0;
    let largest = 0;
    for await (const batch of sheetRecords(once(xml), ctx)) {
      const cells = batch.reduce((n, r) => n + r.length, 0);
      largest = Math.max(largest, cells);
      for (const r of batch) {
        expect(r.length).toBe(16_383);
        expect(r[0]).toBe(String(count));
        expect(r[16_382]).toBe("1");
        count++;
      }
    }
    expect(count).toBe(2000);
    // As one batch per chunk it would be 2,000 × 16,383 = 32,766,000 slots (256 MB). Now the batch is handed on at the first
    // 1,024-character slice of XML that takes it past BATCH_CELLS: a slice holds 30 rows of 34+ characters at most.
    expect(largest).toBeLessThanOrEqual(BATCH_CELLS + 30 * 16_384);
  });

  it("the rows of an ordinary sheet read the same when the text is sliced (a surrogate pair at every cut)", async () => {
    const value = "😀".repeat(700); // 1,400 UTF-16 units: cuts fall inside pairs unless kept whole
    const rows = Array.from(
      { length: 300 },
      (_, i) => `<row><c t="inlineStr"><is><t>${value}${i}</t></is></c><c r="XFD${i + 1}"><v>${i}</v></c></row>`,
    ).join("");
    const ctx = { part: "sheet1.xml", strings: null, styleKinds: [], date1904: false };
    const all: (string | null)[][] = [];
    for await (const batch of sheetRecords(once(`<worksheet><sheetData>${rows}</sheetData></worksheet>`), ctx)) all.push(...batch);
    expect(all.length).toBe(300);
    all.forEach((r, i) => {
      expect(r[0]).toBe(`${value}${i}`);
      expect(r[16_383]).toBe(String(i));
    });
  });
});
