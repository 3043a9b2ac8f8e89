// Updating data by uploading: PUT/DELETE/GET /files, validation while
// streaming, versions and restore, hostile keys, a reader during a replace.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { call, callDirect, clearBucket, errorOf, post, put, table } from "../helpers";

const AUTH = { authorization: "Bearer upload-token" };
const file = (path: string, init: RequestInit = {}) =>
  call(new Request(`https://c.test/files${path}`, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } }));
const upload = (key: string, body: BodyInit, headers: Record<string, string> = {}) => file(`/${key}`, { method: "PUT", body, headers });
const rows = async (code: string, extra: Record<string, unknown> = {}) => table(await post("/data", { table: code, ...extra }));

/** A CSV produced while it is sent (no Content-Length), `n` rows, optionally broken at row `badAt`. */
function csvStream(n: number, opts: { badAt?: number; value?: string } = {}): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i === 0) c.enqueue(enc.encode("id,text,amount\n"));
      let s = "";
      for (let k = 0; k < 5000 && i < n; k++, i++)
        s += i === opts.badAt ? `${i},"broken,1\n` : `${i},${opts.value ?? "row"} ${i} ${"x".repeat(40)},${i}.5\n`;
      c.enqueue(enc.encode(s));
      if (i >= n) c.close();
    },
  });
}

/** The hex SHA-256 of a stream: a chunked upload must send it as x-content-sha256. */
async function sha256Of(stream: ReadableStream<Uint8Array>): Promise<string> {
  const digest = new crypto.DigestStream("SHA-256");
  await stream.pipeTo(digest);
  return [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

beforeEach(clearBucket);

describe("PUT /files/<key>", () => {
  it("uploads a new file, describes it, and serves it", async () => {
    const text = "id,day,amount\n1,31.01.2025,10.5\n2,01.02.2025,7\n";
    const res = await upload("sales/2025.csv", text);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      key: "sales/2025.csv",
      table: "sales_2025",
      rows: 2,
      columns: [
        { code: "ID", name: "id", type: "int" },
        { code: "DAY", name: "day", type: "date" },
        { code: "AMOUNT", name: "amount", type: "double" },
      ],
      schemaChange: null,
      previousVersion: null,
      notes: [],
    });
    expect(await rows("sales_2025")).toEqual([
      ["ID", "DAY", "AMOUNT"],
      [1, "2025-01-31", 10.5],
      [2, "2025-02-01", 7],
    ]);
    const list = (await (await file("")).json()) as { key: string; table: string; size: number }[];
    expect(list).toEqual([expect.objectContaining({ key: "sales/2025.csv", table: "sales_2025", kind: "table", size: text.length })]);
  });

  it("replaces a file, keeps the old version, and reports schema changes", async () => {
    await upload("s.csv", "id,amount\n1,10\n");
    const res = await upload("s.csv", "id,amount,manager\n1,10.5,Anna\n");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { previousVersion: string; schemaChange: unknown; notes: string[] };
    expect(body.previousVersion).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(body.schemaChange).toEqual({ added: ["MANAGER"], removed: [], retyped: [{ code: "AMOUNT", from: "int", to: "double" }] });
    expect(body.notes.join(" ")).toContain("npm run setup");
    expect(await rows("s")).toEqual([
      ["ID", "AMOUNT", "MANAGER"],
      [1, 10.5, "Anna"],
    ]);
    const versions = (await (await file("/s.csv/versions")).json()) as { version: string }[];
    expect(versions.map((v) => v.version)).toEqual([body.previousVersion]);
  });

  it("rejects a malformed file with 422 naming the record, and leaves the live table alone", async () => {
    await upload("s.csv", "id,text,amount\n1,old,2\n");
    // 12 MB: the upload has already gone to a multipart upload when the bad record arrives.
    const res = await upload("s.csv", csvStream(200_000, { badAt: 199_990 }), {
      "x-content-sha256": await sha256Of(csvStream(200_000, { badAt: 199_990 })),
    });
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 422, code: "CSV_MALFORMED" });
    expect(err.message).toContain("live table is unchanged");
    expect(err.message).toContain("record 199992");
    expect(await rows("s")).toEqual([
      ["ID", "TEXT", "AMOUNT"],
      [1, "old", 2],
    ]);
    expect(await (await file("/s.csv/versions")).json()).toEqual([]);
  });

  it.each([
    ["empty", "", "FILE_EMPTY"],
    ["not UTF-8 JSON", new Uint8Array([0x5b, 0xff, 0x5d]), "FILE_ENCODING_INVALID"],
    ["truncated JSON", '[{"a":1},{"a":', "JSON_MALFORMED"],
    ["broken gzip", "not gzip at all", "FILE_GZIP_INVALID"],
  ])("rejects a %s upload", async (_, body, code) => {
    const key = code === "FILE_GZIP_INVALID" ? "g.csv.gz" : code === "FILE_EMPTY" ? "e.csv" : "j.json";
    expect(await errorOf(await upload(key, body))).toMatchObject({ status: 422, code });
    expect(await env.DATA.head(key)).toBeNull();
  });

  it("streams a large upload without a Content-Length but with its checksum (multipart) and counts every row", async () => {
    const res = await upload("big.csv", csvStream(400_000), { "x-content-sha256": await sha256Of(csvStream(400_000)) });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { rows: number; size: number };
    expect(body.rows).toBe(400_000);
    expect(body.size).toBeGreaterThan(24 * 1024 * 1024);
    const head = await env.DATA.head("big.csv");
    expect(head?.size).toBe(body.size);
    expect(await rows("big", { select: ["ID"], filter: { ">=ID": ["399999"] } })).toEqual([["ID"], [399_999]]);
  });

  it("accepts gzip uploads and validates their content", async () => {
    const gz = await new Response(new Blob(["id,v\n1,a\n"]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
    const res = await upload("z.csv.gz", gz);
    expect(await res.json()).toMatchObject({ table: "z", rows: 1 });
    expect(await rows("z")).toEqual([
      ["ID", "V"],
      [1, "a"],
    ]);
  });

  it("notes a column whose values after the first rows do not fit its type: it is widened, not served as empty", async () => {
    const lines = ["n,d", ...Array.from({ length: 12_000 }, (_, i) => (i === 11_000 ? "n/a,2024-01-01" : `${i},2024-01-01`))];
    const res = await upload("t.csv", lines.join("\n"));
    const body = (await res.json()) as { notes: string[] };
    expect(body.notes).toEqual([
      'N is string: its first rows are int, but record 11002 ("n/a") is not. Declare its type in the sidecar if int was meant.',
    ]);
  });
});

describe("versions, delete and restore", () => {
  it("keeps at most UPLOAD_KEEP_VERSIONS versions and restores one", async () => {
    for (const v of ["a", "b", "c", "d"]) await upload("v.csv", `x\n${v}\n`);
    const versions = (await (await file("/v.csv/versions")).json()) as { version: string }[];
    expect(versions.length).toBe(2); // b, c (a was pruned; d is live)
    const res = await file("/v.csv/restore", { method: "POST", body: JSON.stringify({ version: versions[0].version }) });
    expect(await res.json()).toMatchObject({ restored: versions[0].version });
    expect(await rows("v")).toEqual([["X"], ["b"]]);
    const latest = await file("/v.csv/restore", { method: "POST" });
    expect(latest.status).toBe(200);
    expect(await rows("v")).toEqual([["X"], ["d"]]); // the live "d" was kept when "b" was restored
    expect(await errorOf(await file("/v.csv/restore?version=nope", { method: "POST" }))).toMatchObject({
      status: 404,
      code: "VERSION_NOT_FOUND",
    });
  });

  it("deletes a file but keeps it restorable", async () => {
    await upload("d.csv", "x\n1\n");
    expect(await (await file("/d.csv", { method: "DELETE" })).json()).toMatchObject({ deleted: true });
    expect(await errorOf(await post("/data", { table: "d" }))).toMatchObject({ status: 404, code: "TABLE_NOT_FOUND" });
    await file("/d.csv/restore", { method: "POST" });
    expect(await rows("d")).toEqual([["X"], [1]]);
    expect(await errorOf(await file("/nope.csv", { method: "DELETE" }))).toMatchObject({ status: 404, code: "FILE_NOT_FOUND" });
  });
});

describe("sidecars", () => {
  it("validates a schema upload against its file", async () => {
    await upload("s.csv", "a,b\n1,2\n");
    expect(await errorOf(await upload("s.csv.schema.json", '{"columns":{"zzz":{"type":"int"}}}'))).toMatchObject({
      status: 422,
      code: "SCHEMA_INVALID",
    });
    expect(await errorOf(await upload("s.csv.schema.json", "{nope"))).toMatchObject({ status: 422, code: "SCHEMA_INVALID" });
    expect((await upload("s.csv.schema.json", '{"columns":{"a":{"type":"string"}}}')).status).toBe(201);
    expect(await rows("s")).toEqual([
      ["A", "B"],
      ["1", 2],
    ]);
  });
});

describe("access and keys", () => {
  it.each([
    [{}, 401, "TOKEN_MISSING"],
    [{ authorization: "Bearer test-token" }, 403, "TOKEN_INVALID"],
    [{ authorization: "Basic dXBsb2Fk" }, 401, "TOKEN_MISSING"],
  ])("refuses %j", async (headers, status, code) => {
    const res = await call(new Request("https://c.test/files/x.csv", { method: "PUT", body: "a\n1\n", headers }));
    expect(await errorOf(res)).toMatchObject({ status, code });
    expect(await env.DATA.head("x.csv")).toBeNull();
  });

  it("is off without UPLOAD_TOKEN", async () => {
    const ctx = { waitUntil() {}, passThroughOnException() {} } as unknown as ExecutionContext;
    const res = await worker.fetch(new Request("https://c.test/files", { headers: AUTH }), { ...env, UPLOAD_TOKEN: "" }, ctx);
    expect(await errorOf(res)).toMatchObject({ status: 503, code: "UPLOAD_NOT_CONFIGURED" });
  });

  it.each([
    "..%2F..%2Fetc%2Fpasswd.csv",
    "a%2F..%2Fb.csv",
    "%2Fabs.csv",
    ".versions/s.csv/1.csv",
    "dir/.hidden.csv",
    "notes.txt",
    "a//b.csv",
    "x.schema.json",
    "a%5Cb.csv",
    "bad%00.csv",
  ])("refuses the key %s", async (key) => {
    const res = await call(new Request(`https://c.test/files/${key}`, { method: "PUT", body: "a\n1\n", headers: AUTH }));
    const err = await errorOf(res);
    expect(err.status).toBeGreaterThanOrEqual(400);
    expect(err.status).toBeLessThan(500);
    const listed = await env.DATA.list();
    expect(listed.objects).toEqual([]);
  });
});

describe("a reader during a replace", () => {
  it("finishes with the version it started with", async () => {
    const n = 100_000;
    await put("r.csv", `id,v\n${Array.from({ length: n }, (_, i) => `${i},old`).join("\n")}\n`);
    const res = await callDirect(
      new Request("https://c.test/data", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ connection: { token: "test-token" }, table: "r" }),
      }),
    );
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect((await upload("r.csv", "id,v\n0,new\n")).status).toBe(200);
    let text = new TextDecoder().decode(first.value);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const t = JSON.parse(text) as unknown[][];
    expect(t.length).toBe(n + 1);
    expect(t.every((r, i) => i === 0 || r[1] === "old")).toBe(true);
    expect(await rows("r")).toEqual([
      ["ID", "V"],
      [0, "new"],
    ]);
  });
});
