// Review: the shared strings budget counted the UTF-8 bytes written, not the
// pages made. A string whose 3-bytes-per-char bound did not fit the page's
// room started a new 1 MiB page even when it fitted, so strings of ~350,000
// ASCII characters took a page each while counting a third of it: the 48 MB
// budget allowed ~140 MB of pages (a workbook of a few hundred KB:
// compressible well within the 200× zip check). And the part's `uniqueCount`,
// a hint nobody checks, presized the offsets up to 48 MB before a single
// string was read.
import { describe, expect, it } from "vitest";
import { AppError } from "../src/errors";
import { SharedStrings, STRINGS_BUDGET } from "../src/formats/xlsx/strings";

const MiB = 1024 * 1024;

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
