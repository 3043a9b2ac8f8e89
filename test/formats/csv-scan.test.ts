// The byte scanner of UTF-8 CSV (formats/csv/scan.ts) reads every file as
// papaparse's reader (formats/csv/parse.ts) does: the same records, cell for
// cell, over generated files with quotes, doubled quotes, line breaks inside
// quotes, CRLF, blank lines, a BOM, stray `\r`, malformed quoting and
// multi-byte characters, cut into chunks anywhere; and the same error where
// papaparse reports one.
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors";
import { recordStrings } from "../../src/formats/byte-records";
import { type CsvDialect, csvRecords } from "../../src/formats/csv/parse";
import { CsvScanner, csvByteRecords, validUtf8 } from "../../src/formats/csv/scan";
import { decodeChosen, decodeText } from "../../src/formats/decode";
import type { ByteRecords } from "../../src/model";
import { cp1251 as encodeCp1251 } from "../cp1251";
import { clearBucket, post, put, table } from "../helpers";

const enc = new TextEncoder();

async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array, void, undefined> {
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    if (c <= at || c >= bytes.byteLength) continue;
    yield bytes.slice(at, c);
    at = c;
  }
  if (at < bytes.byteLength) yield bytes.slice(at);
}

type Outcome = { records: string[][] } | { error: string };

// The text reader says where a bad byte is to a chunk ("near byte 262144"), the scanner exactly ("at byte 262203").
const errorText = (err: unknown) =>
  (err instanceof AppError ? `${err.code}: ${err.message}` : String(err)).replace(
    /a bad byte sequence (?:near|at) byte \d+/,
    "a bad byte sequence at byte …",
  );

async function viaPapa(bytes: Uint8Array, dialect: CsvDialect, how: "utf-8" | "ascii" = "utf-8"): Promise<Outcome> {
  const records: string[][] = [];
  try {
    const text = how === "ascii" ? decodeChosen(chunked(bytes, []), { encoding: "utf-8", how }) : decodeText(chunked(bytes, []), "utf-8");
    for await (const batch of csvRecords(text, dialect)) for (const r of batch) records.push(r as string[]);
  } catch (err) {
    return { error: errorText(err) };
  }
  return { records };
}

/** Byte records as the text reader gives them: a blank line is `[]`, as csvRecords makes it. */
function asText(rec: ByteRecords, r: number): string[] {
  const cells = recordStrings(rec, r);
  return cells.length === 1 && cells[0] === "" ? [] : cells;
}

async function viaScan(
  bytes: Uint8Array,
  dialect: CsvDialect,
  cuts: number[],
  how: "utf-8" | "ascii" = "utf-8",
): Promise<Outcome & { fellBack?: boolean }> {
  const records: string[][] = [];
  let fellBack = false;
  try {
    for await (const batch of csvByteRecords(chunked(bytes, cuts), dialect, { encoding: "utf-8", how })) {
      if (Array.isArray(batch)) {
        fellBack = true;
        for (const r of batch) records.push(r);
      } else for (let r = 0; r < batch.count; r++) records.push(asText(batch, r));
    }
  } catch (err) {
    return { error: errorText(err) };
  }
  return { records, fellBack };
}

// Cells built of the pieces that make CSV hard.
const piece = fc.constantFrom("a", "b", "7", "Ж", "€", "😀", " ", ",", ";", '"', '""', "\n", "\r", "\r\n", "\t", "x y");
const cell = fc.oneof(
  fc.array(piece, { maxLength: 4 }).map((p) => p.join("")),
  fc.array(piece, { maxLength: 4 }).map((p) => `"${p.join("").replaceAll('"', '""')}"`), // well quoted
  fc.array(piece, { maxLength: 4 }).map((p) => `"${p.join("")}"`), // quoted, maybe malformed
  fc.constantFrom("", '""', '"a" ', '"a"b', 'a"b', '"', "Итого", "1,5"),
);
const file = (delimiter: string, newline: string) =>
  fc
    .tuple(
      fc.boolean(),
      fc.array(
        fc.array(cell, { minLength: 1, maxLength: 4 }).map((cells) => cells.join(delimiter)),
        { maxLength: 8 },
      ),
      fc.constantFrom("", newline, "\r", "\n"),
    )
    .map(([bom, lines, end]) => `${bom ? "\ufeff" : ""}${lines.join(newline)}${end}`);

const dialects: CsvDialect[] = [
  { delimiter: ",", newline: "\n" },
  { delimiter: ";", newline: "\r\n" },
  { delimiter: "\t", newline: "\n" },
];

describe("the byte scanner reads CSV as papaparse does", () => {
  for (const dialect of dialects) {
    it(`generated files, delimiter ${JSON.stringify(dialect.delimiter)}, line break ${JSON.stringify(dialect.newline)}`, async () => {
      let scannedWhole = 0;
      await fc.assert(
        fc.asyncProperty(file(dialect.delimiter, dialect.newline), fc.array(fc.nat(200), { maxLength: 6 }), async (text, cuts) => {
          const bytes = enc.encode(text);
          const papa = await viaPapa(bytes, dialect);
          const { fellBack, ...scanned } = await viaScan(bytes, dialect, cuts);
          expect(scanned).toEqual(papa);
          if (!fellBack && !("error" in scanned)) scannedWhole++;
        }),
        { seed: 1501, numRuns: 600 },
      );
      // The property is about the scanner, not only its fallback: most files are read by it alone.
      expect(scannedWhole).toBeGreaterThan(150);
    });
  }

  it("reads well-formed files itself, without falling back", async () => {
    const text = 'id,name\n1,"a ""b"", c"\n2,"line\nbreak"\n3,Ж€😀\r\n\n4,\n';
    const out = await viaScan(enc.encode(text), { delimiter: ",", newline: "\n" }, [9, 10, 11, 30]);
    expect(out).toEqual({
      records: [["id", "name"], ["1", 'a "b", c'], ["2", "line\nbreak"], ["3", "Ж€😀"], [], ["4", ""]],
      fellBack: false,
    });
  });

  it("hands a malformed record and the rest to papaparse, which reports it with its record number", async () => {
    const text = 'id,name\n1,ok\n2,"bad"x\n3,never read\n';
    expect(await viaScan(enc.encode(text), { delimiter: ",", newline: "\n" }, [])).toEqual({
      error:
        'CSV_MALFORMED: CSV record 3 (the header is record 1) has text after a closing quote. Inside a quoted field a quote must be doubled ("").',
    });
    const lenient = 'id,name\n1,"spaced" \n2,b\n';
    expect(await viaScan(enc.encode(lenient), { delimiter: ",", newline: "\n" }, [])).toEqual({
      records: [
        ["id", "name"],
        ["1", "spaced"],
        ["2", "b"],
      ],
      fellBack: true,
    });
  });

  it("refuses bytes that are not UTF-8 with the exact offset, as the decoder would refuse them", () => {
    const ok = (bytes: number[]) => validUtf8(new Uint8Array(bytes), 0, bytes.length, true, 0, "utf-8");
    for (const bad of [
      [0x80],
      [0xc0, 0x80],
      [0xc1, 0xbf],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf0, 0x80, 0x80, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0xe2, 0x82],
      [0xff],
    ]) {
      expect(() => ok([0x41, ...bad]), JSON.stringify(bad)).toThrow(/^The file is not valid utf-8 \(a bad byte sequence at byte 1\)/);
      expect(() => new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(new Uint8Array(bad))).toThrow();
    }
    for (const good of [
      [0x7f],
      [0xc2, 0x80],
      [0xdf, 0xbf],
      [0xe0, 0xa0, 0x80],
      [0xed, 0x9f, 0xbf],
      [0xef, 0xbf, 0xbf],
      [0xf0, 0x90, 0x80, 0x80],
      [0xf4, 0x8f, 0xbf, 0xbf],
    ])
      expect(ok(good)).toBe(good.length);
    // Cut at the chunk's end: not an error until the file ends.
    expect(validUtf8(new Uint8Array([0x41, 0xe2, 0x82]), 0, 3, false, 0, "utf-8")).toBe(1);
  });

  it("agrees with the decoder on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        let decoderOk = true;
        try {
          new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
        } catch {
          decoderOk = false;
        }
        let ours = true;
        try {
          validUtf8(bytes, 0, bytes.length, true, 0, "utf-8");
        } catch {
          ours = false;
        }
        expect(ours).toBe(decoderOk);
      }),
      { seed: 1502, numRuns: 3000 },
    );
  });

  it("reads an ASCII-so-far file as the text reader does: UTF-8 once a multi-byte character comes, single-byte once a byte is not UTF-8", async () => {
    const dialect: CsvDialect = { delimiter: ";", newline: "\n" };
    const head = enc.encode("id;name\n" + Array.from({ length: 300 }, (_, i) => `${i};plain ${i}`).join("\n") + "\n");
    const cases: [string, Uint8Array][] = [
      ["single-byte after ASCII", encodeCp1251("300;Москва\n301;Омск\n")],
      ["UTF-8 after ASCII", enc.encode("300;Москва\n301;Омск\n")],
      ["UTF-8, then a bad byte", new Uint8Array([...enc.encode("300;Москва\n301;"), 0xce, 0xec, 0x0a])],
    ];
    for (const [what, tail] of cases) {
      const bytes = new Uint8Array([...head, ...tail]);
      for (const cuts of [[], [100, 3000, head.byteLength + 2]]) {
        const papa = await viaPapa(bytes, dialect, "ascii");
        const { fellBack: _, ...scanned } = await viaScan(bytes, dialect, cuts, "ascii");
        expect(scanned, what).toEqual(papa);
      }
    }
    expect(await viaPapa(new Uint8Array([...head, ...cases[0][1]]), dialect, "ascii")).toMatchObject({
      records: expect.arrayContaining([["300", "Москва"]]),
    });
  });

  it("leaves a record longer than 1 MiB to papaparse", () => {
    const scanner = new CsvScanner({ delimiter: ",", newline: "\n" }, "utf-8");
    expect(scanner.scan(enc.encode('a\n"' + "x".repeat(1024 * 1024 + 10))).anomalyAt).toBe(2);
  });
});

describe("a table read as byte records, through POST /data", () => {
  beforeEach(clearBucket);

  it("answers the rows the text reading answers when papaparse takes over mid-file: title lines, lenient quotes, totals at the end", async () => {
    const lines = [
      "Отчёт о продажах",
      "",
      "id;city;amount;day",
      ...Array.from({ length: 400 }, (_, i) => `${i + 1};"Омск ""${i}""";${i},5;0${(i % 9) + 1}.03.2024`),
    ];
    lines.splice(200, 0, '200.5;"spaced" ;1,5;01.03.2024'); // a closing quote followed by a blank: papaparse's reading from here on
    const csv = [...lines, "Итого;;80 200,00;", ""].join("\n");
    await put("bytes/report.csv", csv);
    const t = await table(await post("/data", { table: "bytes_report" }));
    expect(t[0]).toEqual(["ID", "CITY", "AMOUNT", "DAY"]);
    expect(t.length).toBe(1 + 401); // the totals row dropped
    expect(t[1]).toEqual([1, 'Омск "0"', 0.5, "2024-03-01"]);
    expect(t[197]).toEqual([197, 'Омск "196"', 196.5, "2024-03-08"]); // the last row the scanner read
    expect(t[198]).toEqual([200.5, "spaced", 1.5, "2024-03-01"]); // papaparse's, from here on
    expect(t[199]).toEqual([198, 'Омск "197"', 197.5, "2024-03-09"]);
    expect(t[401]).toEqual([400, 'Омск "399"', 399.5, "2024-03-04"]);
    const filtered = await table(
      await post("/data", { table: "bytes_report", select: ["ID"], filter: { "=DAY": "01.03.2024", ">ID": 390 } }),
    );
    expect(filtered).toEqual([["ID"], [397]]);
  });
});
