// URL tables never serve wrong numbers (a description
// cached for another format or an older column order, an HTML page, a body
// cut short, a part of a file, a redirect to plain http).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { redirectTarget } from "../../src/source/url";
import { capturingErrors, errorOf, post, put, table } from "../helpers";

const helper = (env as unknown as { HELPER_ORIGIN: string }).HELPER_ORIGIN;

const setMutable = async (id: string, body: string, type = "text/csv") => {
  const res = await fetch(`${helper}/mutable/${id}`, { method: "PUT", body, headers: { "content-type": type } });
  expect(res.status).toBe(204);
};
const describeTable = async (code: string) => (await post("/table_description", { table: code })).json();

describe("URL tables: a cached description never serves another table's or an older layout", () => {
  it("two URL tables on one URL, csv and json, keep their own descriptions", async () => {
    await setMutable("same", "[[1,2],[3,4]]\n", "application/json");
    const csv = [
      { code: "F_1", name: "[[1", type: "string" },
      { code: "F_2", name: "2]", type: "string" },
      { code: "F_3", name: "[3", type: "string" },
      { code: "F_4", name: "4]]", type: "string" },
    ];
    const json = [
      { code: "F_1", name: "1", type: "int" },
      { code: "F_2", name: "2", type: "int" },
    ];
    expect(await describeTable("remote_same_csv")).toEqual(csv);
    expect(await describeTable("remote_same_json")).toEqual(json);
    expect(await describeTable("remote_same_csv")).toEqual(csv);
    expect(await table(await post("/data", { table: "remote_same_json" }))).toEqual([
      ["F_1", "F_2"],
      [3, 4],
    ]);
    expect(await table(await post("/data", { table: "remote_same_csv" }))).toEqual([["F_1", "F_2", "F_3", "F_4"]]);
  });

  it("columns that moved under the same ETag: 409 FILE_CHANGED, then the retry is served right", async () => {
    await setMutable("flip", "ID,NAME,AMOUNT\n1,one,10.5\n");
    expect(await table(await post("/data", { table: "remote_flip" }))).toEqual([
      ["ID", "NAME", "AMOUNT"],
      [1, "one", 10.5],
    ]);
    await setMutable("flip", "AMOUNT,ID,NAME\n99,2,two\n");
    // Not [["ID","NAME","AMOUNT"],[99,"2",null]] with status 200.
    const err = await errorOf(await post("/data", { table: "remote_flip", select: ["ID", "NAME", "AMOUNT"] }));
    expect(err).toEqual({
      status: 409,
      code: "FILE_CHANGED",
      message: `The file's header changed since it was described (column 1 is now "AMOUNT", it was "ID"); retry: the next request describes the file again.`,
    });
    expect(await table(await post("/data", { table: "remote_flip", select: ["ID", "NAME", "AMOUNT"] }))).toEqual([
      ["ID", "NAME", "AMOUNT"],
      [2, "two", 99],
    ]);
    expect(await describeTable("remote_flip")).toEqual([
      { code: "AMOUNT", name: "AMOUNT", type: "int" },
      { code: "ID", name: "ID", type: "int" },
      { code: "NAME", name: "NAME", type: "string" },
    ]);
  });

  it("a column added at the end under the same ETag is caught too (described by /table_description first)", async () => {
    await setMutable("flip", "ID,NAME\n1,one\n");
    expect(await describeTable("remote_flip")).toHaveLength(2);
    await setMutable("flip", "ID,NAME,EXTRA\n1,one,x\n");
    expect(await errorOf(await post("/data", { table: "remote_flip" }))).toMatchObject({ status: 409, code: "FILE_CHANGED" });
    expect(await table(await post("/data", { table: "remote_flip" }))).toEqual([
      ["ID", "NAME", "EXTRA"],
      [1, "one", "x"],
    ]);
  });

  it("JSON arrays whose header moved under the same ETag: 409 FILE_CHANGED", async () => {
    await setMutable("flip-json", `[["id","name"],[1,"a"]]`, "application/json");
    expect(await table(await post("/data", { table: "remote_flip_json" }))).toEqual([
      ["ID", "NAME"],
      [1, "a"],
    ]);
    await setMutable("flip-json", `[["name","id"],["b",2]]`, "application/json");
    expect(await errorOf(await post("/data", { table: "remote_flip_json" }))).toMatchObject({ status: 409, code: "FILE_CHANGED" });
    expect(await table(await post("/data", { table: "remote_flip_json" }))).toEqual([
      ["NAME", "ID"],
      ["b", 2],
    ]);
  });

  it("an R2 file read twice is served from the cache with its header checked", async () => {
    await put("cached.csv", "A,B\n1,2\n");
    for (let i = 0; i < 2; i++)
      expect(await table(await post("/data", { table: "cached" }))).toEqual([
        ["A", "B"],
        [1, 2],
      ]);
  });
});

describe("URL tables: broken answers are clear URL_UNAVAILABLE errors", () => {
  it.each([
    ["remote_html", `${"/html"} answered an HTML page (text/html), not a CSV file: check that the sheet is published as CSV`],
    ["remote_html_json", `${"/html"} answered an HTML page (text/html), not a JSON file`],
    [
      "remote_html_sniff",
      `${"/html-as-csv"} answered an HTML page (served as text/csv), not a CSV file: check that the sheet is published as CSV`,
    ],
    ["remote_html_gz", `${"/html-as-csv"} answered an HTML page (served as text/csv), not a CSV file`],
    ["remote_image", `${"/image"} answered image/png, not a CSV file`],
    ["remote_short", `${"/short/40"} ended after 40 of the 1040 bytes its Content-Length announced`],
  ])("%s → 502 URL_UNAVAILABLE saying what came back", async (code, detail) => {
    for (const path of ["/table_description", "/data"]) {
      const err = await errorOf(await post(path, { table: code }));
      expect(err).toMatchObject({ status: 502, code: "URL_UNAVAILABLE" });
      expect(err.message).toContain(`Table "${code}": ${helper}${detail}`);
    }
  });

  it("a Content-Encoding body is not mistaken for a cut one (its length counts the encoded bytes)", async () => {
    expect(await table(await post("/data", { table: "remote_encoded" }))).toEqual([
      ["A", "B"],
      [1, 2],
    ]);
  });

  it("a body cut short after the answer started ends in an URL_UNAVAILABLE error line, not INTERNAL", async () => {
    const [[res, text], log] = await capturingErrors(async () => {
      const r = await post("/data", { table: "remote_short_big" });
      return [r, await r.text()] as const;
    });
    expect(log).toContain('{"event":"answer_failed","table":"remote_short_big","code":"URL_UNAVAILABLE"}');
    expect(res.status).toBe(200);
    const line = text.slice(text.lastIndexOf("\n!ERROR ")).trim();
    expect(JSON.parse(line.slice("!ERROR ".length))).toEqual({
      error: {
        code: "URL_UNAVAILABLE",
        message: `Table "remote_short_big": ${helper}/short/3000000 ended after 3000000 of the 3001000 bytes its Content-Length announced: the transfer was cut. Try again; if it keeps failing, check the server that publishes the file.`,
      },
    });
  });
});

describe("URL tables: a part of a file is never served as the whole table", () => {
  it("a 206 Partial Content to a request for the whole file is URL_UNAVAILABLE, not 200 with a cut table", async () => {
    const err = await errorOf(await post("/data", { table: "remote_p206" }));
    expect(err).toMatchObject({ status: 502, code: "URL_UNAVAILABLE" });
    expect(err.message).toContain("answered 206 Partial Content (bytes 0-999/38894) to a request for the whole file");
  });
});

describe("URL tables: redirects never downgrade to plain http", () => {
  it.each([
    ["https://docs.example/pub?x=1", "http://docs.example/file.csv", "URL_UNAVAILABLE"],
    ["https://docs.example/pub", "http://other.example:8080/file.csv", "URL_UNAVAILABLE"],
    ["https://docs.example/pub", "https://cdn.example/file.csv", null],
    ["https://docs.example/a/pub", "/b/file.csv", null],
    ["http://docs.example/pub", "http://docs.example/file.csv", null],
    ["http://docs.example/pub", "https://docs.example/file.csv", null],
  ])("%s → %s", (from, location, code) => {
    if (code === null) expect(redirectTarget(new URL(from), location, "t").href).toBe(new URL(location, from).href);
    else expect(() => redirectTarget(new URL(from), location, "t")).toThrow(expect.objectContaining({ code }));
  });
});
