// Hostile workbooks: zip bombs (declared and lying), huge
// directories, DOCTYPE and entities, cut and corrupted files (fast-check,
// fixed seeds), the shared strings budget, sheets past Excel's grid. Each is
// an exact refusal, never an INTERNAL error, a hang or a wrong table.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/errors";
import { xlsx } from "../../src/formats/xlsx";
import { readSharedStrings, SharedStrings } from "../../src/formats/xlsx/strings";
import { memoryAccess, nothing } from "../memory-access";
import { buildXlsx, buildZip, typedRows } from "../xlsx-build";

async function records(bytes: Uint8Array): Promise<unknown[][]> {
  const access = memoryAccess(bytes);
  const reader = await xlsx.detect({ sample: bytes.subarray(0, 1 << 20), complete: bytes.length <= 1 << 20, ...access }, { name: "xlsx" });
  const out: unknown[][] = [];
  for await (const batch of reader.records(nothing(), false, { access })) out.push(...(batch as unknown[][]));
  return out;
}

async function failure(bytes: Uint8Array): Promise<{ code: string; message: string }> {
  try {
    await records(bytes);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { code: err.code, message: err.message };
  }
  throw new Error("no error");
}

const FIX = ". Open it in Excel or LibreOffice and save it again as .xlsx (Excel Workbook), or save the sheet as CSV UTF-8.";
const TOO_LARGE = ". Save the sheet as CSV UTF-8 and upload that (CSV is read as a stream, of any size).";
const ROWS = typedRows([
  ["id", "name"],
  ["1", "a"],
]);
const sheetPart = (rows: string, head = "") =>
  `<?xml version="1.0"?>${head}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rows}</sheetData></worksheet>`;

describe("zip bombs", () => {
  it("a part that declares more than 200× its compressed size is refused before it is read", async () => {
    const zeros = new Uint8Array(20 * 1024 * 1024); // deflates to ~20 KB: ~1,000×
    const bytes = await buildXlsx([{ name: "S", rows: ROWS }], { parts: [{ name: "xl/worksheets/sheet1.xml", data: zeros }] });
    const err = await failure(bytes);
    expect(err.code).toBe("XLSX_TOO_LARGE");
    expect(err.message).toMatch(
      /^The workbook is too large to serve: its part xl\/worksheets\/sheet1\.xml declares 20971520 bytes from \d+ compressed, more than 200 times: a decompression bomb, not a sheet\. Save the sheet/,
    );
  });

  it("a part that inflates past its declared size stops there (the bomb that lies about its size)", async () => {
    const big = new TextEncoder().encode(sheetPart(`<row r="1"><c t="inlineStr"><is><t>${"x".repeat(8 * 1024 * 1024)}</t></is></c></row>`));
    const bytes = await buildXlsx([{ name: "S", rows: ROWS }], {
      parts: [{ name: "xl/worksheets/sheet1.xml", data: big, declaredSize: 4096 }],
    });
    expect(await failure(bytes)).toEqual({
      code: "XLSX_MALFORMED",
      message: `The workbook cannot be read: its part xl/worksheets/sheet1.xml inflates past its declared 4096 bytes${FIX}`,
    });
  });

  it("a part that inflates to less than it declares is malformed", async () => {
    const bytes = await buildXlsx([{ name: "S", rows: ROWS }], {
      parts: [{ name: "xl/worksheets/sheet1.xml", data: sheetPart(ROWS), declaredSize: 100_000 }],
    });
    const err = await failure(bytes);
    expect(err.code).toBe("XLSX_MALFORMED");
    expect(err.message).toMatch(/inflates to \d+ bytes, not its declared 100000$|inflates to \d+ bytes, not its declared 100000\. Open it/);
  });

  it("a part declared larger than 1 GiB is refused", async () => {
    const bytes = await buildXlsx([{ name: "S", rows: ROWS }], {
      parts: [{ name: "xl/worksheets/sheet1.xml", data: sheetPart(ROWS), store: true, declaredSize: 2 ** 31 }],
    });
    // Stored: the sizes must agree, so it is refused as malformed or too large, before a byte is read.
    expect((await failure(bytes)).code).toMatch(/^XLSX_(TOO_LARGE|MALFORMED)$/);
  });
});

describe("the zip directory", () => {
  it("more than 1 MiB of directory is refused without reading it", async () => {
    const bytes = await buildZip([{ name: "[Content_Types].xml", data: "<Types/>" }], { extraDirectoryEntries: 25_000 });
    const err = await failure(bytes);
    expect(err.code).toBe("XLSX_TOO_LARGE");
    expect(err.message).toMatch(
      /^The workbook is too large to serve: its zip directory declares \d+ bytes \(at most 1048576 are read\)\. Save the sheet/,
    );
  });

  it("more than 10,000 entries are refused", async () => {
    const bytes = await buildZip([{ name: "[Content_Types].xml", data: "<Types/>" }], { extraDirectoryEntries: 12_000 });
    expect(await failure(bytes)).toEqual({
      code: "XLSX_TOO_LARGE",
      message: `The workbook is too large to serve: its zip holds 12001 entries (at most 10000; Excel writes a few dozen)${TOO_LARGE}`,
    });
  });

  it("a zip without [Content_Types].xml is no workbook", async () => {
    const bytes = await buildZip([{ name: "xl/workbook.xml", data: "<workbook/>" }]);
    expect(await failure(bytes)).toEqual({
      code: "XLSX_MALFORMED",
      message: `The workbook cannot be read: it has no [Content_Types].xml, so it is no Office Open XML workbook${FIX}`,
    });
  });

  it("a Word document is no workbook", async () => {
    const types =
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';
    const bytes = await buildZip([{ name: "[Content_Types].xml", data: types }]);
    expect(await failure(bytes)).toEqual({
      code: "XLSX_MALFORMED",
      message: `The workbook cannot be read: its [Content_Types].xml names no spreadsheet workbook (is it a Word or PowerPoint file?)${FIX}`,
    });
  });
});

describe("XML", () => {
  it("a <!DOCTYPE> is refused (no DTD, no entity expansion: billion laughs)", async () => {
    const laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>';
    const bytes = await buildXlsx([{ name: "S", rows: ROWS }], {
      parts: [
        { name: "xl/worksheets/sheet1.xml", data: sheetPart('<row r="1"><c t="inlineStr"><is><t>&lol2;</t></is></c></row>', laughs) },
      ],
    });
    expect(await failure(bytes)).toEqual({
      code: "XLSX_MALFORMED",
      message: `The workbook cannot be read: its part xl/worksheets/sheet1.xml has a <!DOCTYPE> (Excel never writes one; DTDs are refused)${FIX}`,
    });
  });

  it("an undefined entity is not well-formed", async () => {
    const bytes = await buildXlsx([{ name: "S", rows: '<row r="1"><c t="inlineStr"><is><t>&lol;</t></is></c></row>' }]);
    const err = await failure(bytes);
    expect(err.code).toBe("XLSX_MALFORMED");
    expect(err.message).toMatch(
      /^The workbook cannot be read: its part xl\/worksheets\/sheet1\.xml is not well-formed XML \(.*undefined entity.*\)\. Open it/i,
    );
  });

  it("a DOCTYPE in the shared strings is refused too", async () => {
    const bytes = await buildXlsx([{ name: "S", rows: '<row r="1"><c t="s"><v>0</v></c></row>' }], {
      sharedStrings: ["x"],
      parts: [
        {
          name: "xl/sharedStrings.xml",
          data: '<?xml version="1.0"?><!DOCTYPE sst SYSTEM "http://evil/x.dtd"><sst><si><t>x</t></si></sst>',
        },
      ],
    });
    expect((await failure(bytes)).message).toBe(
      `The workbook cannot be read: its part xl/sharedStrings.xml has a <!DOCTYPE> (Excel never writes one; DTDs are refused)${FIX}`,
    );
  });

  it("a text longer than 16 M characters is refused, not buffered", async () => {
    const bytes = await buildXlsx([{ name: "S", rows: ROWS }], {
      parts: [
        {
          name: "xl/worksheets/sheet1.xml",
          data: sheetPart(`<row r="1"><c t="inlineStr"><is><t>${"x".repeat(17 * 1024 * 1024)}`),
          store: true,
        },
      ],
    });
    expect(await failure(bytes)).toEqual({
      code: "XLSX_MALFORMED",
      message: `The workbook cannot be read: its part xl/worksheets/sheet1.xml has a text or tag longer than 16777216 characters${FIX}`,
    });
  });

  it("bytes that are not UTF-8 are refused", async () => {
    const bad = new Uint8Array([
      ...new TextEncoder().encode(sheetPart('<row r="1"><c t="inlineStr"><is><t>')),
      0xff,
      0xfe,
      ...new TextEncoder().encode("</t></is></c></row></sheetData></worksheet>"),
    ]);
    const bytes = await buildXlsx([{ name: "S", rows: ROWS }], { parts: [{ name: "xl/worksheets/sheet1.xml", data: bad }] });
    expect(await failure(bytes)).toEqual({
      code: "XLSX_MALFORMED",
      message: `The workbook cannot be read: its part xl/worksheets/sheet1.xml is not valid UTF-8${FIX}`,
    });
  });
});

describe("the sheet grid", () => {
  it.each([
    [
      '<row r="1048577"><c><v>1</v></c></row>',
      "a row of xl/worksheets/sheet1.xml is numbered 1048577 after row 0 (rows must ascend, 1 to 1048576)",
    ],
    [
      '<row r="2"><c><v>1</v></c></row><row r="1"><c><v>1</v></c></row>',
      "a row of xl/worksheets/sheet1.xml is numbered 1 after row 2 (rows must ascend, 1 to 1048576)",
    ],
    ['<row r="1"><c r="XFE1"><v>1</v></c></row>', "row 1 of xl/worksheets/sheet1.xml has a cell past column 16384 (XFD), Excel's last"],
    [
      '<row r="1"><c r="B1"><v>1</v></c><c r="A1"><v>1</v></c></row>',
      "row 1 of xl/worksheets/sheet1.xml has its cells out of order (A1 after column 2)",
    ],
    [
      '<row r="1"><c t="s"><v>0</v></c></row>',
      "cell 1 of row 1 in xl/worksheets/sheet1.xml refers to a shared string, but the workbook has no shared strings",
    ],
    ['<row r="1"><c><v>12abc</v></c></row>', 'cell 1 of row 1 in xl/worksheets/sheet1.xml holds "12abc", which is no number'],
  ])("%s is refused", async (rows, detail) => {
    expect(await failure(await buildXlsx([{ name: "S", rows }]))).toEqual({
      code: "XLSX_MALFORMED",
      message: `The workbook cannot be read: ${detail}${FIX}`,
    });
  });

  it("a shared string index past the table is refused", async () => {
    const bytes = await buildXlsx([{ name: "S", rows: '<row r="1"><c t="s"><v>5</v></c></row>' }], { sharedStrings: ["a"] });
    expect(await failure(bytes)).toEqual({
      code: "XLSX_MALFORMED",
      message: `The workbook cannot be read: a cell refers to shared string 5, but the table has 1${FIX}`,
    });
  });

  it("cells and rows without r follow the previous ones; a gap keeps row positions; trailing empty rows are dropped", async () => {
    const rows =
      '<row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c></row><row r="4"><c r="C4"><v>2</v></c><c><v>3</v></c></row><row r="5"><c s="0"/></row><row r="9"/>';
    expect(await records(await buildXlsx([{ name: "S", rows }]))).toEqual([["a", "1"], [], [], [null, null, "2", "3"]]);
  });

  it("an error cell is null; rich text is the concatenation of its runs, without phonetic runs", async () => {
    const rows =
      '<row r="1"><c t="e"><v>#N/A</v></c><c t="inlineStr"><is><r><t>Ab</t></r><r><t xml:space="preserve"> c</t></r><rPh><t>ふ</t></rPh></is></c><c t="str"><f>A1</f><v>x_x000D_y</v></c><c t="b"><v>0</v></c></row>';
    expect(await records(await buildXlsx([{ name: "S", rows }]))).toEqual([[null, "Ab c", "x\ry", "false"]]);
  });
});

describe("shared strings budget", () => {
  it("refuses a table past its budget with the figure", async () => {
    const strings = new SharedStrings(1024);
    expect(() => {
      for (let i = 0; i < 100; i++) strings.add(`string number ${i} ${"x".repeat(20)}`);
    }).toThrow(
      new AppError(
        "XLSX_TOO_LARGE",
        "The workbook's shared strings take more than 0 MB (26 strings read so far): too large to serve. Save the sheet as CSV UTF-8 and upload that (CSV is read as a stream, of any size).",
      ),
    );
  });

  it("keeps strings across its 1 MiB pages (a string never spans two) and refuses one longer than a page", () => {
    const strings = new SharedStrings();
    const text = (i: number) => (i % 7 === 0 ? "" : `${i}:${"я".repeat(i % 50)}`);
    for (let i = 0; i < 60_000; i++) strings.add(text(i));
    expect(strings.packedBytes).toBeGreaterThan(3 * 1024 * 1024); // several pages
    for (let i = 0; i < 60_000; i += 1) expect(strings.get(i)).toBe(text(i) === "" ? null : text(i));
    expect(() => strings.add("ж".repeat(600_000))).toThrow(/^A shared string of the workbook is longer than 1048576 bytes/);
  });

  it("packs strings: UTF-8 bytes plus 4 bytes per string, decoded on demand (fast-check, fixed seed)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: "grapheme", maxLength: 30 }), { maxLength: 200 }), async (texts) => {
        const xml = `<sst>${texts.map((t) => `<si><t>${t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/\r/g, "&#13;")}</t></si>`).join("")}</sst>`;
        const strings = await readSharedStrings(
          (async function* () {
            yield new TextEncoder().encode(xml);
          })(),
          "sst.xml",
        );
        expect(strings.count).toBe(texts.length);
        // XML normalises line ends: \r\n and \r read as \n (the escaped &#13; is kept).
        texts.forEach((t, i) =>
          expect(strings.get(i)).toBe(t === "" ? null : t.replace(/_x([0-9A-Fa-f]{4})_/g, (_, h) => String.fromCharCode(parseInt(h, 16)))),
        );
      }),
      { seed: 7, numRuns: 100 },
    );
  });
});

describe("cut and corrupted workbooks (fast-check, fixed seeds)", () => {
  const good = buildXlsx(
    [
      {
        name: "S",
        rows: typedRows([
          ["id", "day", "note"],
          ["1", "2024-01-31", "first"],
          ["2", "2024-02-01", "second"],
        ]),
      },
    ],
    { sharedStrings: ["unused"] },
  );

  it("any cut of a workbook is XLSX_MALFORMED (its directory is at the end), never another error", async () => {
    const bytes = await good;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 4, max: bytes.length - 1 }), async (n) => {
        expect((await failure(bytes.subarray(0, n))).code).toBe("XLSX_MALFORMED");
      }),
      { seed: 3, numRuns: 150 },
    );
  });

  it("a corrupted byte anywhere gives the rows or an error the format declares, never an internal error", async () => {
    const bytes = await good;
    const clean = await records(bytes);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const broken = bytes.slice();
        broken[at] ^= xor;
        try {
          const got = await records(broken);
          // Bytes that unzipit and the parsers do not check (CRCs, times, unused fields) may change nothing, or a cell's text.
          expect(got.length).toBeLessThanOrEqual(clean.length + 1);
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
          expect(xlsx.errors).toContain((err as AppError).code);
        }
      }),
      { seed: 5, numRuns: 300 },
    );
  });
});
