// One conformance suite for every table format (the way one router test
// suite runs against every router): the registry's formats and a toy `.psv`
// format the test adds, all through the same cases and the shared pipeline
// (detect → records → header, widths, types → rows).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { describeStream } from "../../src/catalog/describe";
import { readConfig } from "../../src/config/config";
import type { TableFormat } from "../../src/formats/format";
import { FORMATS, formatRegistry } from "../../src/formats/registry";
import { tableRows } from "../../src/formats/rows";
import type { Bytes, TableEntry } from "../../src/model";
import { openTable } from "../../src/source/open";
import { psv } from "../formats/psv";
import { buildXlsx, typedRows } from "../xlsx-build";

/** The registry with the toy format added: the only change a new format needs besides its folder. */
const formats = formatRegistry([...FORMATS.formats, psv]);

/** How each format writes a table of text cells (header first), and one file it must refuse. */
interface Fixture {
  extension: string;
  write(table: string[][]): string | Promise<Uint8Array>;
  malformed: string | Promise<Uint8Array>;
  /** Read with random access (XLSX): records never come from a cut sample. */
  randomAccess?: boolean;
  /** How an empty cell reads (CSV: "", a workbook has no empty cells but absent ones: null). */
  empty?: null;
}

const objects = (table: string[][]) => table.slice(1).map((row) => Object.fromEntries(table[0].map((h, i) => [h, row[i]])));

const FIXTURES: Fixture[] = [
  { extension: "csv", write: (t) => t.map((r) => r.join(",")).join("\n") + "\n", malformed: 'id,note\n1,"never closed\n' },
  { extension: "tsv", write: (t) => t.map((r) => r.join("\t")).join("\r\n") + "\r\n", malformed: 'id\tnote\n1\t"never closed\n' },
  { extension: "json", write: (t) => JSON.stringify(objects(t)), malformed: '[{"id":"1"},{"id":' },
  { extension: "json", write: (t) => JSON.stringify(t), malformed: '[["id"],["1"],' },
  {
    extension: "ndjson",
    write: (t) =>
      objects(t)
        .map((o) => JSON.stringify(o))
        .join("\n") + "\n",
    malformed: '{"id":"1"}\n{"id":\n',
  },
  { extension: "psv", write: (t) => t.map((r) => r.join("|")).join("\n") + "\n", malformed: 'id|note\n1|"never closed\n' },
  {
    extension: "xlsx",
    write: (t) => buildXlsx([{ name: "Sheet1", rows: typedRows(t) }]),
    // A workbook cut short: its zip directory is gone.
    malformed: buildXlsx([{ name: "Sheet1", rows: typedRows([["id"], ["1"]]) }]).then((b) => b.subarray(0, b.length - 40)),
    randomAccess: true,
    empty: null,
  },
];

const TABLE = [
  ["id", "amount", "day", "at", "note"],
  ["1", "2.5", "2024-01-31", "2024-01-31 23:59:59", "first"],
  ["2", "", "2024-02-01", "2024-02-01 00:00:00", ""],
  ["3", "-4", "2024-02-29", "2024-02-29 12:30:00", "last"],
];

const entry = (extension: string): TableEntry => ({
  code: "t",
  title: "t",
  source: { kind: "r2", key: `t.${extension}`, extension, gzip: false },
});

async function* chunks(text: string | Uint8Array, size: number): Bytes {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** Reads a file as R2 would serve it: a stream from the first byte, and range reads (streamed in `chunkSize` pieces too). */
async function read(extension: string, content: string | Uint8Array | Promise<Uint8Array>, chunkSize = 1 << 16) {
  const file = await content;
  const all = typeof file === "string" ? new TextEncoder().encode(file) : file;
  const access = {
    size: all.length,
    read: async (o: number, l: number) => all.slice(o, o + l),
    stream: (o: number, l: number) => chunks(all.subarray(o, o + l), chunkSize),
  };
  const {
    description,
    bytes,
    access: readAccess,
  } = await describeStream(entry(extension), chunks(file, chunkSize), undefined, { formats, ...access });
  const rows: (string | null)[][] = [];
  for await (const batch of tableRows(bytes, description, { access: readAccess })) rows.push(...batch);
  return { description, rows };
}

async function failure(run: () => Promise<unknown>): Promise<{ code: string }> {
  try {
    await run();
  } catch (err) {
    return err as { code: string };
  }
  throw new Error("no error");
}

describe("the registry", () => {
  it("gives every extension one format, and the toy format joins by being listed", () => {
    expect(FORMATS.extensions).toEqual(["csv", "tsv", "json", "ndjson", "jsonl", "xlsx", "xlsm"]);
    expect(formats.formatOf("PSV")).toBe(psv);
    expect(formats.listed).toBe(".csv, .tsv, .json, .ndjson, .jsonl, .xlsx, .xlsm or .psv");
    for (const f of formats.formats) expect(f.errors).toContain("FILE_EMPTY");
  });
});

describe("random access for formats with metadata at the end (XLSX, Parquet)", () => {
  it("an R2 table's format gets its size and range reads of the same version", async () => {
    await env.DATA.put("tail.csv", "id\n1\n2\nEND!");
    const opened = await openTable(env, readConfig(env), {
      code: "tail",
      title: "tail",
      source: { kind: "r2", key: "tail.csv", extension: "csv", gzip: false },
    });
    await opened.bytes.return(undefined);
    expect(opened.size).toBe(11);
    expect(new TextDecoder().decode(await opened.read!(opened.size! - 4, 4))).toBe("END!");
    const streamed: Uint8Array[] = [];
    for await (const chunk of opened.stream!(3, 4)) streamed.push(chunk);
    expect(streamed.map((c) => new TextDecoder().decode(c)).join("")).toBe("1\n2\n");
    await env.DATA.put("tail.csv", "id\n1\n2\nNEW!");
    expect(await failure(() => opened.read!(0, 2))).toMatchObject({ code: "TABLE_NOT_FOUND" }); // another version now
  });

  it("describeStream hands size and read to the format's detect", async () => {
    let seen: { size?: number; tail?: string } = {};
    const tail: TableFormat = {
      ...psv,
      extensions: ["tail"],
      async detect(input, hints) {
        seen = { size: input.size, tail: new TextDecoder().decode(await input.read!(input.size! - 2, 2)) };
        return psv.detect(input, hints);
      },
    };
    const text = "id\n1\n";
    const bytes = new TextEncoder().encode(text);
    await describeStream(entry("tail"), chunks(text, 4), undefined, {
      formats: formatRegistry([tail]),
      size: bytes.length,
      read: async (o, l) => bytes.subarray(o, o + l),
    });
    expect(seen).toEqual({ size: 5, tail: "1\n" });
  });
});

describe.each(FIXTURES.map((f, i) => [`${f.extension} #${i}`, f] as const))("format %s", (_, fixture) => {
  const format: TableFormat = formats.formatOf(fixture.extension)!;
  const expected = TABLE.slice(1).map((r) => r.map((v) => (v === "" && fixture.empty === null ? null : v)));

  it("reads the header, infers the types and returns every row as wide as the header", async () => {
    const { description, rows } = await read(fixture.extension, fixture.write(TABLE));
    expect(description.columns.map((c) => [c.code, c.type])).toEqual([
      ["ID", "int"],
      ["AMOUNT", "double"],
      ["DAY", "date"],
      ["AT", "datetime"],
      ["NOTE", "string"],
    ]);
    expect(rows).toEqual(expected);
  });

  it("reads the same rows from one-byte chunks", async () => {
    expect((await read(fixture.extension, fixture.write(TABLE), 1)).rows).toEqual(expected);
  });

  it("an empty file is FILE_EMPTY", async () => {
    expect(await failure(() => read(fixture.extension, ""))).toMatchObject({ code: "FILE_EMPTY" });
  });

  it("a malformed file raises one of the errors the format declares", async () => {
    const err = await failure(() => read(fixture.extension, fixture.malformed));
    expect(format.errors).toContain(err.code);
  });

  it.skipIf(fixture.randomAccess)("a sample that cuts the last record describes from the complete ones", async () => {
    const text = fixture.write(TABLE) as string;
    const reader = await format.detect({ sample: new TextEncoder().encode(text), complete: true }, { name: fixture.extension });
    const cut = new TextEncoder().encode(text.slice(0, text.lastIndexOf("last") + 2));
    const records: unknown[] = [];
    for await (const batch of reader.records(chunks(new TextDecoder().decode(cut), 7), true)) records.push(...batch);
    const whole: unknown[] = [];
    for await (const batch of reader.records(chunks(text, 7), false)) whole.push(...batch);
    expect(records).toEqual(whole.slice(0, -1));
  });
});
