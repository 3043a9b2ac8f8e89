// A workbook's limits count what is parsed. The shared
// strings table is parsed whole before the sheet on every read that is not
// compiled, so its XML bytes and its entry count are bounded, not only the
// decoded text it keeps: 53 MB of XML holding 2.8 M three-character strings
// passed the 48 MB budget and cost 16 s of CPU a read.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors";
import { xlsx } from "../../src/formats/xlsx";
import { MAX_SHARED_STRINGS, SharedStrings, STRINGS_BUDGET, STRINGS_XML_BYTES } from "../../src/formats/xlsx/strings";
import { call, clearBucket, errorOf, post } from "../helpers";
import { memoryAccess, nothing } from "../memory-access";
import { buildXlsx } from "../xlsx-build";

const NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"';
const ROWS = `<row r="1"><c t="s"><v>0</v></c></row><row r="2"><c t="s"><v>1</v></c></row>`;
const TOO_LARGE = "too large to serve. Save the sheet as CSV UTF-8 and upload that (CSV is read as a stream, of any size).";

/** A sharedStrings.xml of `count` entries; `run` pads each with rich-text formatting (XML that holds no text). */
function sst(count: number, run = ""): string {
  const item = (i: number) => (run ? `<si><r>${run}<t>${i % 10}</t></r></si>` : `<si><t>${i === 0 ? "name" : i}</t></si>`);
  return `<?xml version="1.0" encoding="UTF-8"?><sst ${NS} count="${count}" uniqueCount="${count}">${Array.from({ length: count }, (_, i) => item(i)).join("")}</sst>`;
}

async function workbook(strings: string): Promise<Uint8Array> {
  return buildXlsx([{ name: "S", rows: ROWS }], { sharedStrings: ["x"], parts: [{ name: "xl/sharedStrings.xml", data: strings }] });
}

async function failure(bytes: Uint8Array): Promise<{ code: string; message: string }> {
  const access = memoryAccess(bytes);
  try {
    const reader = await xlsx.detect(
      { sample: bytes.subarray(0, 1 << 20), complete: bytes.length <= 1 << 20, ...access },
      { name: "xlsx" },
    );
    for await (const _ of reader.records(nothing(), false, { access }));
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { code: err.code, message: err.message };
  }
  throw new Error("no error");
}

// 200 bytes of run properties per entry: 260,000 entries are 53.3 MB of XML and 260 KB of text.
const RUN =
  `<rPr><rFont val="Calibri"/><family val="2"/><charset val="204"/><sz val="11"/><color theme="1"/><scheme val="minor"/><u val="none"/><vertAlign val="baseline"/><b val="0"/></rPr>`.padEnd(
    200,
    " ",
  );

beforeEach(clearBucket);

describe("the shared strings are bounded by what is parsed", () => {
  it(`refuses more than ${STRINGS_XML_BYTES} bytes of shared strings XML before reading it, though its text is small`, async () => {
    const xml = sst(260_000, RUN);
    const bytes = new TextEncoder().encode(xml).byteLength;
    expect(bytes).toBeGreaterThan(STRINGS_XML_BYTES);
    expect(await failure(await workbook(xml))).toEqual({
      code: "XLSX_TOO_LARGE",
      message: `The workbook's shared strings (xl/sharedStrings.xml) are ${(bytes / 1024 / 1024).toFixed(1)} MB of XML; at most 48 MB are read (every read of the sheet parses them whole): ${TOO_LARGE}`,
    });
  });

  it(`refuses more than ${MAX_SHARED_STRINGS} entries, though their XML and text are within the budget`, async () => {
    const count = MAX_SHARED_STRINGS + 1;
    const xml = sst(count);
    expect(new TextEncoder().encode(xml).byteLength).toBeLessThan(STRINGS_XML_BYTES);
    expect(await failure(await workbook(xml))).toEqual({
      code: "XLSX_TOO_LARGE",
      message: `The workbook's shared strings (xl/sharedStrings.xml) hold more than ${MAX_SHARED_STRINGS} entries; at most ${MAX_SHARED_STRINGS} are read (every read of the sheet parses them whole): ${TOO_LARGE}`,
    });
  });

  it("serves a table at the entry bound", async () => {
    const book = await workbook(sst(MAX_SHARED_STRINGS));
    await env.DATA.put("xl/limit.xlsx", book);
    const res = await post("/data", { table: "xl_limit", limit: 1 });
    expect(await res.text()).toBe('[["NAME"],[1]]');
  });

  it("an upload of such a workbook is refused with the code (422 XLSX_TOO_LARGE), and nothing is stored", async () => {
    const book = await workbook(sst(260_000, RUN));
    const res = await call(
      new Request("https://c.test/files/xl/big.xlsx", {
        method: "PUT",
        body: book,
        headers: { authorization: "Bearer upload-token", "content-length": String(book.byteLength) },
      }),
    );
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 422, code: "XLSX_TOO_LARGE" });
    expect(err.message).toMatch(/The workbook's shared strings \(xl\/sharedStrings\.xml\) are 5\d\.\d MB of XML; at most 48 MB are read/);
    expect(await env.DATA.head("xl/big.xlsx")).toBeNull();
  });
});

const MiB = 1024 * 1024;

// The budget counts the pages made, not the UTF-8 bytes written, and the part's `uniqueCount` (a hint)
// presizes nothing.
describe("the shared strings budget bounds the memory held", () => {
  it.each([349_526, 524_289, 700_000])("strings of %i characters: refused before the pages exceed the budget", (length) => {
    const strings = new SharedStrings();
    let thrown: unknown = null;
    let added = 0;
    try {
      for (; added < 400; added++) strings.add(String.fromCharCode(97 + (added % 26)).repeat(length));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe("XLSX_TOO_LARGE");
    // Held: at most the budget, the page being filled and the offsets.
    expect(strings.packedBytes).toBeLessThanOrEqual(STRINGS_BUDGET + 2 * MiB);
    // And what was kept reads back.
    expect(strings.get(added - 1)).toBe(String.fromCharCode(97 + ((added - 1) % 26)).repeat(length));
  });

  it("strings that fit the room left in a page go there (three of 349,525 ASCII characters per page)", () => {
    const strings = new SharedStrings();
    for (let i = 0; i < 9; i++) strings.add(String(i).repeat(349_525));
    expect(strings.packedBytes).toBeLessThanOrEqual(3 * MiB + 64 * 1024);
    for (let i = 0; i < 9; i++) expect(strings.get(i)).toBe(String(i).repeat(349_525));
  });

  it("a declared uniqueCount of two billion presizes nothing large", () => {
    const strings = new SharedStrings(STRINGS_BUDGET, 2_000_000_000);
    expect(strings.packedBytes).toBeLessThanOrEqual(2 * MiB);
    for (let i = 0; i < 3000; i++) strings.add(`s${i}`);
    expect(strings.get(2999)).toBe("s2999");
  });
});
