// A file's manifest: what an upload decided over the whole file,
// kept at .manifest/<encoded key>/<etag>, used by /table_description and /data
// while it belongs to the live object and its sidecar; ignored otherwise.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { forgetDescriptions } from "../../src/catalog/describe";
import { call, clearBucket, gzip, post, put, table } from "../helpers";

const AUTH = { authorization: "Bearer upload-token" };
const file = (path: string, init: RequestInit = {}) =>
  call(new Request(`https://c.test/files${path}`, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } }));
const upload = (key: string, body: string | Uint8Array) => file(`/${key}`, { method: "PUT", body });
const rows = async (code: string) => table(await post("/data", { table: code }));
const description = async (code: string) =>
  (await (await post("/table_description", { table: code })).json()) as { code: string; name: string; type: string }[];

/** `n` rows `i;i` (ints), except that row `at` (1-based) holds `value` in column n. */
function csv(n: number, at: number, value: string): string {
  const lines = ["n;m"];
  for (let i = 1; i <= n; i++) lines.push(`${i === at ? value : i};${i}`);
  return lines.join("\n") + "\n";
}

const manifests = async () => (await env.DATA.list({ prefix: ".manifest/" })).objects.map((o) => o.key);

beforeEach(clearBucket);

describe("types from every value", () => {
  const text = csv(12_000, 10_001, "1,5"); // `;`: a decimal comma

  it("an upload makes a column double when its 10,001st value is 1.5, and says so", async () => {
    const res = await upload("w.csv", text);
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      rows: 12_000,
      columns: [
        { code: "N", name: "n", type: "double", example: "1", misfits: 0 },
        { code: "M", name: "m", type: "int", example: "1", misfits: 0 },
      ],
      encoding: { name: "utf-8", guessed: false, how: "ascii" },
      dialect: { delimiter: ";", newline: "\n" },
      layout: { headerRow: 1, skippedRows: [], footerRows: [], footerRowCount: 0, declared: false },
      widened: [{ code: "N", from: "int", to: "double", firstRecord: 10_002, firstValue: "1,5" }],
      manifest: true,
      notes: ['N is double: its first rows are int, but record 10002 ("1,5") is not. Declare its type in the sidecar if int was meant.'],
    });
    expect(await description("w")).toEqual([
      { code: "N", name: "n", type: "double" },
      { code: "M", name: "m", type: "int" },
    ]);
    const got = await rows("w");
    expect(got[10_001]).toEqual([1.5, 10_001]);
    expect(got[10_000]).toEqual([10_000, 10_000]);
    expect(got.length).toBe(12_001);
  });

  it("put straight into R2 the same file stays as the first rows say (int, the late value null)", async () => {
    // Another key: the same bytes have the same etag, and this isolate remembers w.csv's manifest.
    await put("direct.csv", text);
    expect(await description("direct")).toEqual([
      { code: "N", name: "n", type: "int" },
      { code: "M", name: "m", type: "int" },
    ]);
    expect((await rows("direct"))[10_001]).toEqual([null, 10_001]);
  });

  it("a column with text after its first rows becomes string, never silently null", async () => {
    await upload("s.csv", csv(11_000, 10_500, "n/a"));
    expect((await rows("s"))[10_500]).toEqual(["n/a", 10_500]);
    expect((await rows("s"))[1]).toEqual(["1", 1]);
  });

  it("a column empty in the first rows gets the type of its later values", async () => {
    const lines = ["a;b", ...Array.from({ length: 11_000 }, (_, i) => `${i};${i >= 10_500 ? "31.01.2024" : ""}`)];
    const body = (await (await upload("e.csv", lines.join("\n"))).json()) as { columns: unknown[] };
    expect(body.columns).toEqual([
      { code: "A", name: "a", type: "int", example: "0", misfits: 0 },
      { code: "B", name: "b", type: "date", example: "31.01.2024", misfits: 0 },
    ]);
    expect((await rows("e"))[10_501]).toEqual([10_500, "2024-01-31"]);
  });

  it("a declared type wins: not widened, its misfits counted and served as null", async () => {
    expect((await upload("d.csv.schema.json", '{"columns":{"n":{"type":"int"}}}')).status).toBe(201);
    const body = (await (await upload("d.csv", text)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      columns: [
        { code: "N", type: "int", misfits: 1 },
        { code: "M", type: "int", misfits: 0 },
      ],
      widened: [],
      notes: ['1 value(s) in N are not int and will be served as empty (first: record 10002, "1,5").'],
    });
    expect((await rows("d"))[10_001]).toEqual([null, 10_001]);
  });

  it("day-first slash dates after the first rows switch the column's order", async () => {
    const lines = ["d", ...Array.from({ length: 10_500 }, (_, i) => (i === 10_400 ? "31/01/2024" : "01/02/2024"))];
    const body = (await (await upload("o.csv", lines.join("\n"))).json()) as { widened: unknown[] };
    expect(body.widened).toEqual([
      { code: "D", from: "date (month first)", to: "date (day first)", firstRecord: 10_402, firstValue: "31/01/2024" },
    ]);
    const got = await rows("o");
    expect([got[1], got[10_401]]).toEqual([["2024-02-01"], ["2024-01-31"]]);
  });
});

describe("the manifest object", () => {
  it("is kept next to the file, keyed by the live etag, versioned, and not listed", async () => {
    const res = (await (await upload("sales/2025.csv", "id,x\n1,a\n")).json()) as { etag: string };
    const key = `.manifest/${encodeURIComponent("sales/2025.csv")}/${res.etag}`;
    expect(await manifests()).toEqual([key]);
    const m = (await (await env.DATA.get(key))!.json()) as Record<string, unknown>;
    expect(m).toMatchObject({
      v: 1,
      key: "sales/2025.csv",
      etag: res.etag,
      sidecar: "-",
      format: "csv",
      reader: { encoding: { encoding: "utf-8", how: "ascii" }, dialect: { delimiter: ",", newline: "\n" } },
      description: { keys: ["id", "x"], header: ["id", "x"], decimalComma: false },
      rows: 1,
    });
    expect(m).not.toHaveProperty("description.reader");
    const list = (await (await file("")).json()) as { key: string }[];
    expect(list.map((f) => f.key)).toEqual(["sales/2025.csv"]);
    expect(((await (await post("/table_list")).json()) as { code: string }[]).map((t) => t.code)).toEqual(
      expect.not.arrayContaining([expect.stringContaining("manifest")]),
    );
  });

  it("is what /table_description and /data answer from (no inference): a changed manifest shows", async () => {
    const { etag } = (await (await upload("t.csv", "id,x\n1,a\n2,b\n")).json()) as { etag: string };
    const key = `.manifest/t.csv/${etag}`;
    const m = (await (await env.DATA.get(key))!.json()) as { description: { columns: { type: string; name: string }[] } };
    m.description.columns[0].type = "string";
    m.description.columns[1].name = "from the manifest";
    await env.DATA.put(key, JSON.stringify(m));
    forgetDescriptions(); // edited under the same identity: seen by an isolate that has not read it yet
    expect(await description("t")).toEqual([
      { code: "ID", name: "id", type: "string" },
      { code: "X", name: "from the manifest", type: "string" },
    ]);
    expect(await rows("t")).toEqual([
      ["ID", "X"],
      ["1", "a"],
      ["2", "b"],
    ]);
  });

  it("is ignored when the object was replaced straight in R2 (another etag)", async () => {
    await upload("t.csv", csv(10_500, 10_200, "1,5"));
    expect((await description("t"))[0]).toEqual({ code: "N", name: "n", type: "double" });
    await put("t.csv", "n;m\n1;2\n");
    expect(await description("t")).toEqual([
      { code: "N", name: "n", type: "int" },
      { code: "M", name: "m", type: "int" },
    ]);
    expect(await rows("t")).toEqual([
      ["N", "M"],
      [1, 2],
    ]);
  });

  it.each([
    ["an unknown layout version", (m: Record<string, unknown>) => JSON.stringify({ ...m, v: 2 })],
    ["not JSON", () => "{not json"],
    ["a description of the wrong shape", (m: Record<string, unknown>) => JSON.stringify({ ...m, description: { columns: "x" } })],
    ["another etag inside", (m: Record<string, unknown>) => JSON.stringify({ ...m, etag: "0".repeat(32) })],
  ])("is ignored when it has %s (described from the first rows again)", async (what, broken) => {
    const name = what.replace(/\W+/g, "_");
    const { etag } = (await (await upload(`${name}.csv`, csv(10_500, 10_200, "1,5"))).json()) as { etag: string };
    const key = `.manifest/${name}.csv/${etag}`;
    await env.DATA.put(key, broken((await (await env.DATA.get(key))!.json()) as Record<string, unknown>));
    forgetDescriptions(); // the upload's compilation read the manifest: as an isolate that has not
    expect((await description(name))[0]).toEqual({ code: "N", name: "n", type: "int" });
  });

  it("is ignored when the sidecar changed after the upload", async () => {
    await upload("t.csv", csv(10_500, 10_200, "1,5"));
    expect((await description("t"))[0].type).toBe("double");
    await put("t.csv.schema.json", '{"columns":{"m":{"name":"Menge"}}}');
    expect(await description("t")).toEqual([
      { code: "N", name: "n", type: "int" },
      { code: "M", name: "Menge", type: "int" },
    ]);
  });

  it("follows restore (the restored content's manifest applies again) and is pruned with its versions", async () => {
    const a = (await (await upload("r.csv", csv(10_500, 10_200, "1,5"))).json()) as { etag: string };
    const b = (await (await upload("r.csv", "n;m\n1;2\n")).json()) as { etag: string };
    expect((await description("r"))[0].type).toBe("int");
    expect((await manifests()).sort()).toEqual([`.manifest/r.csv/${a.etag}`, `.manifest/r.csv/${b.etag}`].sort());
    expect((await file("/r.csv/restore", { method: "POST" })).status).toBe(200);
    expect((await description("r"))[0].type).toBe("double");
    expect((await rows("r"))[10_200]).toEqual([1.5, 10_200]);
    // UPLOAD_KEEP_VERSIONS is 2 in the tests: after three more uploads only the live and two kept contents have manifests.
    for (const t of ["x\n1\n", "x\n2\n", "x\n3\n"]) await upload("r.csv", t);
    const left = await manifests();
    expect(left).toHaveLength(3);
    expect(left).not.toContain(`.manifest/r.csv/${a.etag}`);
  });

  it("a deleted file keeps its manifest with its kept version, and gets it back when restored", async () => {
    await upload("g.csv", csv(10_500, 10_200, "1,5"));
    expect((await file("/g.csv", { method: "DELETE" })).status).toBe(200);
    expect(await manifests()).toHaveLength(1);
    expect((await file("/g.csv/restore", { method: "POST" })).status).toBe(200);
    expect((await description("g"))[0].type).toBe("double");
  });
});

describe("encodings decided at upload are kept", () => {
  it("a file whose first MiB is ASCII is read in the encoding the upload found, from the first byte", async () => {
    const ascii = "id;city\r\n" + "1;Kazan\r\n".repeat(130_000);
    const tail = Uint8Array.from([0x32, 0x3b, 0xcc, 0xee, 0xf1, 0xea, 0xe2, 0xe0, 0x0d, 0x0a]); // 2;Москва in cp1251
    const bytes = new Uint8Array([...new TextEncoder().encode(ascii), ...tail]);
    const res = (await (await upload("late.csv", bytes)).json()) as { etag: string; encoding: unknown };
    expect(res.encoding).toEqual({ name: "windows-1251", guessed: true, how: "guessed", alternative: "koi8-r" });
    const m = (await (await env.DATA.get(`.manifest/late.csv/${res.etag}`))!.json()) as { reader: unknown };
    expect(m.reader).toMatchObject({ encoding: { encoding: "windows-1251", how: "guessed" } });
    const got = await rows("late");
    expect(got[got.length - 1]).toEqual([2, "Москва"]);
  });
});

describe("every format keeps its decisions", () => {
  it.each([
    ["a.json", '[{"id":1,"v":"x"},{"id":2,"v":"y"}]', { shape: "array" }],
    ["b.json", '{"id":1,"v":"x"}\n{"id":2,"v":"y"}\n', { shape: "ndjson" }],
    ["c.ndjson", '{"id":1,"v":"x"}\n{"id":2,"v":"y"}\n', { shape: "ndjson" }],
  ])("%s is served from its manifest", async (key, text, reader) => {
    const { etag } = (await (await upload(key, text)).json()) as { etag: string };
    const m = (await (await env.DATA.get(`.manifest/${key}/${etag}`))!.json()) as { reader: unknown };
    expect(m.reader).toEqual(reader);
    const code = key.replace(/\.\w+$/, "");
    expect(await description(code)).toEqual([
      { code: "ID", name: "id", type: "int" },
      { code: "V", name: "v", type: "string" },
    ]);
    expect(await rows(code)).toEqual([
      ["ID", "V"],
      [1, "x"],
      [2, "y"],
    ]);
  });

  it("a gzipped CSV too (types from every inflated value)", async () => {
    const { etag } = (await (await upload("z.csv.gz", await gzip(csv(10_500, 10_300, "1,5")))).json()) as { etag: string };
    expect(await manifests()).toEqual([`.manifest/z.csv.gz/${etag}`]);
    expect((await description("z"))[0]).toEqual({ code: "N", name: "n", type: "double" });
    expect((await rows("z"))[10_300]).toEqual([1.5, 10_300]);
  });
});
