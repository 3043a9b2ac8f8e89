// Review: a sheet's rows were handed on once per chunk of XML, however wide:
// `<row><c r="XFC1"><v>1</v></c></row>` is 35 bytes of XML and a record of
// 16,383 slots (128 KB), so one 64 KB chunk made ~1,900 such records
// (~240 MB) before anything was handed on, from a workbook of a few KB
// (the rows compress to nothing). Batches are now bounded by cells.
import { describe, expect, it } from "vitest";
import { BATCH_CELLS, sheetRecords } from "../src/formats/xlsx/sheet";

const enc = new TextEncoder();

async function* once(text: string) {
  yield enc.encode(text);
}

describe("wide sheet rows are handed on in batches bounded by cells", () => {
  it("2,000 rows of one cell at XFC in one chunk: no batch holds more than BATCH_CELLS slots (plus one slice of XML)", async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `<row r="${i + 1}"><c r="A${i + 1}"><v>${i}</v></c><c r="XFC${i + 1}"><v>1</v></c></row>`).join("");
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
    // Before: one batch of 2,000 × 16,383 = 32,766,000 slots (256 MB). Now the batch is handed on at the first
    // 1,024-character slice of XML that takes it past BATCH_CELLS: a slice holds 30 rows of 34+ characters at most.
    expect(largest).toBeLessThanOrEqual(BATCH_CELLS + 30 * 16_384);
  });

  it("the rows of an ordinary sheet read as before when the text is sliced (a surrogate pair at every cut)", async () => {
    const value = "😀".repeat(700); // 1,400 UTF-16 units: cuts fall inside pairs unless kept whole
    const rows = Array.from({ length: 300 }, (_, i) => `<row><c t="inlineStr"><is><t>${value}${i}</t></is></c><c r="XFD${i + 1}"><v>${i}</v></c></row>`).join("");
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
