// Uploads and versions must never lose or mix data.
// Versions kept per key without ambiguity, concurrent PUTs that lose nothing,
// uploads that must prove they are complete, table codes an upload may not
// take from another file, sidecars held to the Worker's own rules, and
// capped bodies on every /files route.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import type { AppError } from "../../src/errors";
import { csvRecords } from "../../src/formats/csv/parse";
import worker from "../../src/index";
import { normalizeEncoding, SUPPORTED_ENCODINGS } from "../../src/values/encodings";
import { call, clearBucket, errorOf, post, table } from "../helpers";

const AUTH = { authorization: "Bearer upload-token" };
const file = (path: string, init: RequestInit = {}) =>
  call(new Request(`https://c.test/files${path}`, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } }));
const upload = (key: string, body: BodyInit, headers: Record<string, string> = {}) => file(`/${key}`, { method: "PUT", body, headers });
const rows = async (code: string) => table(await post("/data", { table: code }));
const enc = new TextEncoder();

/** A body sent in chunks with no Content-Length (chunked), like `head -c N file | curl -T -`. */
function chunked(text: string | Uint8Array, chunk = 4096): ReadableStream<Uint8Array> {
  const bytes = typeof text === "string" ? enc.encode(text) : text;
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.byteLength) return c.close();
      c.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

/** A stream of `total` bytes that counts how much of it was pulled. */
function counted(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const block = enc.encode(" ".repeat(64 * 1024));
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= total) return c.close();
      c.enqueue(block.slice());
      sent += block.byteLength;
    },
  });
  return { stream, pulled: () => sent };
}

async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(text)));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every object's text in the bucket, by key (compiled forms aside: src/compiled/, written after an upload). */
async function bucketTexts(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const listed = await env.DATA.list();
  // Manifests (.manifest/) and compiled forms (.compiled/) describe contents; they are not contents (test/catalog/manifest.test.ts, test/compiled-*.test.ts cover them).
  for (const o of listed.objects) if (!/^\.(manifest|compiled)\//.test(o.key)) out.set(o.key, await (await env.DATA.get(o.key))!.text());
  return out;
}

const versionsOf = async (key: string) => (await (await file(`/${key}/versions`)).json()) as { version: string; size: number }[];

beforeEach(clearBucket);

describe("versions are kept per key, without ambiguity", () => {
  it("vc/a.csv and vc/a.csv/x.csv keep and restore only their own versions", async () => {
    expect((await upload("vc/a.csv", "n\na1\n")).status).toBe(201);
    expect((await upload("vc/a.csv/x.csv", "n\nx1\n")).status).toBe(201);
    expect((await upload("vc/a.csv", "n\na2\n")).status).toBe(200);
    expect((await upload("vc/a.csv/x.csv", "n\nx2\n")).status).toBe(200);
    expect(await versionsOf("vc/a.csv")).toHaveLength(1);
    expect(await versionsOf("vc/a.csv/x.csv")).toHaveLength(1);

    const res = await file("/vc/a.csv/restore", { method: "POST" });
    expect(res.status).toBe(200);
    expect(await rows("vc_a")).toEqual([["N"], ["a1"]]);
    // The other file's version is still there, and its live content is its own.
    expect(await versionsOf("vc/a.csv/x.csv")).toHaveLength(1);
    expect(await rows("vc_a_csv_x")).toEqual([["N"], ["x2"]]);
    const x = await file("/vc/a.csv/x.csv/restore", { method: "POST" });
    expect(x.status).toBe(200);
    expect(await rows("vc_a_csv_x")).toEqual([["N"], ["x1"]]);
  });

  it("stores versions under the percent-encoded key with unique ids", async () => {
    await upload("dir/s.csv", "n\n1\n");
    const body = (await (await upload("dir/s.csv", "n\n2\n")).json()) as { previousVersion: string };
    expect(body.previousVersion).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f]{8}$/);
    const keys = (await env.DATA.list({ prefix: ".versions/" })).objects.map((o) => o.key);
    expect(keys).toEqual([`.versions/dir%2Fs.csv/${body.previousVersion}`]);
    await (await env.DATA.get(keys[0]))!.text();
  });

  it("still lists and restores versions kept in the old layout, each under its own key only", async () => {
    await upload("vc/a.csv", "n\nlive\n");
    await env.DATA.put(".versions/vc/a.csv/2025-01-01T00-00-00-000Z", "n\nold-a\n");
    await env.DATA.put(".versions/vc/a.csv/x.csv/2025-01-02T00-00-00-000Z", "n\nold-x\n");
    expect((await versionsOf("vc/a.csv")).map((v) => v.version)).toEqual(["2025-01-01T00-00-00-000Z"]);
    expect((await versionsOf("vc/a.csv/x.csv")).map((v) => v.version)).toEqual(["2025-01-02T00-00-00-000Z"]);
    const res = await file("/vc/a.csv/restore?version=2025-01-01T00-00-00-000Z", { method: "POST" });
    expect(res.status).toBe(200);
    expect(await rows("vc_a")).toEqual([["N"], ["old-a"]]);
    expect(await env.DATA.head(".versions/vc/a.csv/x.csv/2025-01-02T00-00-00-000Z")).not.toBeNull();
  });
});

it("refuses a key whose versions would not fit R2's 1024-byte keys (400)", async () => {
  const err = await errorOf(await upload(`${encodeURIComponent("д".repeat(200))}.csv`, "n\n1\n"));
  expect(err).toMatchObject({ status: 400, code: "KEY_INVALID" });
  expect(err.message).toContain("too long");
  const longest = `${encodeURIComponent("д".repeat(162))}.csv`; // 972 + 4 bytes percent-encoded
  expect((await upload(longest, "n\n1\n")).status).toBe(201);
  expect((await upload(longest, "n\n2\n")).status).toBe(200); // its version's key fits
  expect(await versionsOf(decodeURIComponent(longest))).toHaveLength(1);
});

describe("concurrent PUTs to one key", () => {
  // Through the Worker's handler, concurrently in one isolate, with room for every version.
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  const roomy = { ...env, UPLOAD_KEEP_VERSIONS: "20" };
  const putRoomy = (key: string, text: string) =>
    // Called in-process, a request has no Content-Length unless given (over HTTP the runtime sets it).
    worker.fetch(
      new Request(`https://c.test/files/${key}`, {
        method: "PUT",
        body: text,
        headers: { ...AUTH, "content-length": String(enc.encode(text).byteLength) },
      }),
      roomy,
      ctx,
    );

  it.each([1, 2, 3])("lose nothing and never report the same previous version (run %i)", async () => {
    await putRoomy("c.csv", "n\nv0\n");
    const contents = ["n\nv1\n", "n\nv2\n", "n\nv3\n", "n\nv4\n"];
    const answers = await Promise.all(contents.map((t) => putRoomy("c.csv", t)));
    const bodies = await Promise.all(
      answers.map(async (r) => ({ status: r.status, body: (await r.json()) as { previousVersion?: string; error?: { code: string } } })),
    );
    for (const b of bodies) expect([200, 409]).toContain(b.status);
    const won = bodies.filter((b) => b.status === 200);
    expect(won.length).toBeGreaterThanOrEqual(1);
    // The losers are refused by the table's write lock (test/uploads/races.test.ts) before they change anything.
    for (const b of bodies.filter((b) => b.status === 409)) expect(b.body.error?.code).toBe("WRITE_IN_PROGRESS");
    const previous = won.map((b) => b.body.previousVersion);
    expect(new Set(previous).size).toBe(previous.length);

    // Every content that was live at some point is live or kept, exactly once.
    const texts = await bucketTexts();
    const stored = [...texts.values()];
    const mustSurvive = ["n\nv0\n", ...contents.filter((_, i) => bodies[i].status === 200)];
    for (const t of mustSurvive) expect(stored.filter((s) => s === t)).toHaveLength(1);
    // A refused upload left nothing behind (no version of it, no staging object).
    expect(stored.length).toBe(mustSurvive.length);
    expect([...texts.keys()].every((k) => k === "c.csv" || k.startsWith(".versions/c.csv/"))).toBe(true);
    expect(await versionsOf("c.csv")).toHaveLength(mustSurvive.length - 1);
  });

  it("lose nothing when the uploads are large (multipart, completed in place under the table lock)", async () => {
    const big = (tag: string) => `id,v\n${tag}\n${Array.from({ length: 200_000 }, (_, i) => `${i},${"x".repeat(40)}`).join("\n")}\n`;
    await putRoomy("m.csv", "id,v\nv0\n");
    const contents = ["1,a", "2,b"].map(big);
    const answers = await Promise.all(contents.map((t) => putRoomy("m.csv", t)));
    const statuses = await Promise.all(answers.map(async (r) => (await r.text(), r.status)));
    for (const s of statuses) expect([200, 409]).toContain(s);
    const listed = (await env.DATA.list()).objects.map((o) => o.key).filter((k) => !/^\.(manifest|compiled)\//.test(k));
    expect(listed.filter((k) => !k.startsWith(".versions/m.csv/") && k !== "m.csv")).toEqual([]); // no .staging/ object (earlier releases staged large uploads) and no other key
    const heads: string[] = [];
    for (const k of listed) heads.push((await (await env.DATA.get(k))!.text()).slice(0, 12));
    const mustSurvive = ["id,v\nv0\n", ...contents.filter((_, i) => statuses[i] === 200)].map((t) => t.slice(0, 12));
    expect(heads.sort()).toEqual(mustSurvive.sort());
  });

  it("answer 409 when the live file changed while the upload streamed in", async () => {
    await upload("s.csv", "n\nold\n");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (!sent) {
          c.enqueue(enc.encode("n\nslow\n"));
          sent = true;
          return;
        }
        await gate;
        c.close();
      },
    });
    const text = "n\nslow\n";
    const slow = worker.fetch(
      new Request("https://c.test/files/s.csv", {
        method: "PUT",
        body,
        headers: { ...AUTH, "x-content-sha256": await sha256Hex(text) },
        duplex: "half",
      } as RequestInit),
      env,
      ctx,
    );
    await new Promise((r) => setTimeout(r, 50));
    // A write through the Worker would wait for the table's lock (WRITE_IN_PROGRESS, test/uploads/races.test.ts);
    // one around the Worker (`wrangler r2 object put`) is caught by the etag check.
    await env.DATA.put("s.csv", "n\nfast\n");
    release();
    const err = await errorOf(await slow);
    expect(err).toMatchObject({ status: 409, code: "UPLOAD_CONFLICT" });
    expect(await rows("s")).toEqual([["N"], ["fast"]]);
    expect((await bucketTexts()).size).toBe(1); // live "fast"; the slow upload kept nothing (wrangler keeps no version of "old")
  });
});

describe("an upload must prove it is complete", () => {
  const full = `id,v\n${Array.from({ length: 3000 }, (_, i) => `${i},row ${i}`).join("\n")}\n`;
  // Cut after a third of the rows, exactly at a record boundary.
  const third = full.slice(0, full.indexOf("\n", full.length / 3) + 1);

  it("refuses a chunked body with neither Content-Length nor checksum (411) and keeps the live table", async () => {
    await upload("s.csv", "id,v\n1,old\n");
    const err = await errorOf(await upload("s.csv", chunked(third)));
    expect(err).toMatchObject({ status: 411, code: "LENGTH_REQUIRED" });
    expect(err.message).toContain("curl -T");
    expect(err.message).toContain("x-content-sha256");
    expect(await rows("s")).toEqual([
      ["ID", "V"],
      [1, "old"],
    ]);
  });

  it("refuses a body shorter than its Content-Length, cut at a record boundary (422)", async () => {
    await upload("s.csv", "id,v\n1,old\n");
    const err = await errorOf(await upload("s.csv", chunked(third), { "content-length": String(enc.encode(full).byteLength) }));
    expect(err).toMatchObject({ status: 422, code: "UPLOAD_INCOMPLETE" });
    expect(err.message).toContain("live table is unchanged");
    expect(await rows("s")).toEqual([
      ["ID", "V"],
      [1, "old"],
    ]);
    expect(await versionsOf("s.csv")).toEqual([]);
    expect([...(await bucketTexts()).keys()]).toEqual(["s.csv"]);
  });

  it("refuses a body longer than its Content-Length (422)", async () => {
    const err = await errorOf(await upload("s.csv", chunked(full), { "content-length": String(enc.encode(third).byteLength) }));
    expect(err).toMatchObject({ status: 422, code: "UPLOAD_INCOMPLETE" });
    expect(await env.DATA.head("s.csv")).toBeNull();
  });

  it("refuses a large (multipart) body that stops early, and leaves no object behind", async () => {
    const big = `id,v\n${Array.from({ length: 400_000 }, (_, i) => `${i},${"x".repeat(40)}`).join("\n")}\n`;
    const cut = big.slice(0, big.indexOf("\n", 12 * 1024 * 1024) + 1); // past the first 8 MiB part
    const err = await errorOf(await upload("big.csv", chunked(cut, 256 * 1024), { "content-length": String(big.length) }));
    expect(err).toMatchObject({ status: 422, code: "UPLOAD_INCOMPLETE" });
    expect((await env.DATA.list()).objects).toEqual([]);
  });

  it("refuses a gzip upload cut at the end of a gzip member (422)", async () => {
    const gz = async (text: string) =>
      new Uint8Array(await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
    const first = await gz(third);
    const rest = await gz(full.slice(third.length));
    const err = await errorOf(await upload("z.csv.gz", chunked(first), { "content-length": String(first.byteLength + rest.byteLength) }));
    expect(err).toMatchObject({ status: 422, code: "UPLOAD_INCOMPLETE" });
    expect(await env.DATA.head("z.csv.gz")).toBeNull();
  });

  it("accepts a chunked body with a matching x-content-sha256, refuses a cut one (422)", async () => {
    const res = await upload("s.csv", chunked(full), { "x-content-sha256": await sha256Hex(full) });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { rows: number }).rows).toBe(3000);
    const err = await errorOf(await upload("s.csv", chunked(third), { "x-content-sha256": (await sha256Hex(full)).toUpperCase() }));
    expect(err).toMatchObject({ status: 422, code: "UPLOAD_INCOMPLETE" });
    expect((await rows("s")).length).toBe(3001);
    expect(await versionsOf("s.csv")).toEqual([]);
  });

  it("refuses a malformed checksum header (400)", async () => {
    const err = await errorOf(await upload("s.csv", chunked(full), { "x-content-sha256": "abc" }));
    expect(err).toMatchObject({ status: 400, code: "REQUEST_INVALID" });
    expect(await env.DATA.head("s.csv")).toBeNull();
  });
});

describe("an upload never changes another table's code", () => {
  it.each(["Sales.csv", "sales-.csv", "sales.CSV"])("refuses %s while sales.csv has the code sales (409)", async (key) => {
    await upload("sales.csv", "n\nmine\n");
    const err = await errorOf(await upload(key, "n\ntheirs\n"));
    expect(err).toMatchObject({ status: 409, code: "TABLE_CODE_TAKEN" });
    expect(err.message).toContain(`"${key}"`);
    expect(err.message).toContain('"sales.csv"');
    expect(err.message).toContain("another name");
    expect(await env.DATA.head(key)).toBeNull();
    expect(await rows("sales")).toEqual([["N"], ["mine"]]);
  });

  it("lets a new file take a suffixed code when no other code changes", async () => {
    await upload("sales.csv", "n\nmine\n");
    const res = await upload("sales.json", '[{"n":"json"}]');
    expect(res.status).toBe(201);
    expect(((await res.json()) as { table: string }).table).toMatch(/^sales_[0-9a-f]{6}$/);
    expect(await rows("sales")).toEqual([["N"], ["mine"]]);
  });

  it("refuses to restore a deleted file whose code another file now has (409)", async () => {
    await upload("A.csv", "n\nold\n");
    await file("/A.csv", { method: "DELETE" });
    await upload("a.csv", "n\nnew\n");
    const err = await errorOf(await file("/A.csv/restore", { method: "POST" }));
    expect(err).toMatchObject({ status: 409, code: "TABLE_CODE_TAKEN" });
    expect(await rows("a")).toEqual([["N"], ["new"]]);
    expect(await versionsOf("A.csv")).toHaveLength(1);
  });
});

describe("sidecars follow the Worker's own rules", () => {
  it.each([
    ['{"columns":{"n":{"name":"0"}}}', "name"],
    ['{"columns":{"n":{"name":" 0 "}}}', "name"],
    ['{"encoding":"utf-16le"}', "windows-1251"],
    ['{"encoding":"utf-16"}', "windows-1251"],
    ['{"encoding":"shift_jis"}', "windows-1251"],
  ])("refuses %s (422 SCHEMA_INVALID)", async (text, mentions) => {
    await upload("s.csv", "n\n1\n");
    const err = await errorOf(await upload("s.csv.schema.json", text));
    expect(err).toMatchObject({ status: 422, code: "SCHEMA_INVALID" });
    expect(err.message).toContain(mentions);
    expect(await env.DATA.head("s.csv.schema.json")).toBeNull();
  });

  it.each(["UTF-8", "utf8", " Utf-8 ", "unicode-1-1-utf-8"])("reads UTF-8 strictly when the sidecar says %j", async (label) => {
    expect((await upload("s.csv.schema.json", JSON.stringify({ encoding: label }))).status).toBe(201);
    const bad = new Uint8Array([...enc.encode("n\nab"), 0xff, 0x0a]);
    const err = await errorOf(await upload("s.csv", bad));
    expect(err).toMatchObject({ status: 422, code: "FILE_ENCODING_INVALID" });
    expect(await env.DATA.head("s.csv")).toBeNull();
  });

  it("maps Windows code page aliases (CP1251) to their encoding", async () => {
    expect((await upload("s.csv.schema.json", '{"encoding":"CP1251"}')).status).toBe(201);
    const cp1251 = new Uint8Array([0x6e, 0x0a, 0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2, 0x0a]); // n \n Привет \n
    expect((await upload("s.csv", cp1251)).status).toBe(201);
    expect(await rows("s")).toEqual([["N"], ["Привет"]]);
  });

  it("knows every encoding it accepts, and nothing multi-byte but UTF-8", () => {
    for (const e of SUPPORTED_ENCODINGS) expect(new TextDecoder(e).encoding).toBe(e);
    expect(normalizeEncoding("UTF8")).toBe("utf-8");
    expect(normalizeEncoding("win-1251")).toBe("windows-1251");
    expect(normalizeEncoding("cp866")).toBe("ibm866");
    expect(normalizeEncoding("ISO8859-5")).toBe("iso-8859-5");
    expect(normalizeEncoding("KOI8-R")).toBe("koi8-r");
    expect(normalizeEncoding("latin1")).toBe("windows-1252");
    for (const e of ["utf-16le", "utf-16be", "utf-16", "gbk", "big5", "euc-jp", "shift_jis", "x-user-defined", "replacement", ""])
      expect(normalizeEncoding(e)).toBeNull();
  });
});

describe("every /files body is read with the size cap", () => {
  it.each([
    ["PUT", "/s.csv.schema.json"],
    ["POST", "/s.csv/restore"],
  ])("%s %s stops reading a 64 MiB body at the cap (413)", async (method, path) => {
    const body = counted(64 * 1024 * 1024);
    const res = await file(path, { method, body: body.stream });
    expect(await errorOf(res)).toMatchObject({ status: 413, code: "BODY_TOO_LARGE" });
    expect(body.pulled()).toBeLessThan(8 * 1024 * 1024);
  });
});

describe("a CSV whose last record is short and has no line break looks cut off", () => {
  const cut = (key: string, record: number, fields: number, of: number) =>
    `The upload to "${key}" was rejected and the live table is unchanged: CSV record ${record} (the header is record 1), the last one, has ${fields} of the header's ${of} fields and no line break after it: the file looks cut off (an export or copy that stopped early). Upload the complete file; if that record is meant to be short, end the file with a line break.`;

  it.each([
    ["cut.csv", "a,b,c\n1,2,3\n4,5", 3, 2],
    ["cut_crlf.csv", "a;b;c\r\n1;2;3\r\n4", 3, 1],
    ["cut_blank.csv", "a,b,c\n1,2,3\n\n4,5", 4, 2],
  ])("%s is refused at upload (422 naming the record)", async (key, text, record, fields) => {
    expect(await errorOf(await upload(key, text))).toEqual({ status: 422, code: "CSV_MALFORMED", message: cut(key, record, fields, 3) });
    expect(await env.DATA.head(key)).toBeNull();
  });

  it("is refused when the file is large (read in many chunks) too", async () => {
    const text = `a,b,c\n${Array.from({ length: 60_000 }, (_, i) => `${i},${i},${i}`).join("\n")}\n7,8`;
    expect(await errorOf(await upload("cut_big.csv", text))).toMatchObject({ status: 422, message: cut("cut_big.csv", 60_002, 2, 3) });
  });

  it.each([
    [
      "short_ended.csv",
      "a,b,c\n1,2,3\n4,5\n",
      [
        ["A", "B", "C"],
        [1, 2, 3],
        [4, 5, null],
      ],
    ],
    [
      "full_unended.csv",
      "a,b,c\n1,2,3\n4,5,6",
      [
        ["A", "B", "C"],
        [1, 2, 3],
        [4, 5, 6],
      ],
    ],
    [
      "short_middle.csv",
      "a,b,c\n1\n4,5,6",
      [
        ["A", "B", "C"],
        [1, null, null],
        [4, 5, 6],
      ],
    ],
    ["header_only.csv", "a,b,c", [["A", "B", "C"]]],
  ])("%s is accepted: a short row ended by a line break, or a full last record, is not a cut", async (key, text, expected) => {
    expect((await upload(key, text)).status).toBe(201);
    expect(await rows(key.replace(".csv", ""))).toEqual(expected);
  });

  it("property: refused exactly when the last record is short and unended, for any rows, line endings and chunks (fast-check, fixed seed)", async () => {
    const file = fc.integer({ min: 1, max: 5 }).chain((width) =>
      fc.record({
        width: fc.constant(width),
        rows: fc.array(fc.array(fc.stringMatching(/^[a-z0-9]{0,4}$/), { minLength: 1, maxLength: width }), { maxLength: 6 }),
        crlf: fc.boolean(),
        ended: fc.boolean(),
        cuts: fc.array(fc.nat(), { maxLength: 4 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(file, async ({ width, rows, crlf, ended, cuts }) => {
        const nl = crlf ? "\r\n" : "\n";
        const header = Array.from({ length: width }, (_, i) => `h${i}`);
        // A lone empty field is a blank line, which is skipped: keep every record non-blank.
        const records = [header, ...rows.map((r) => (r.length === 1 && r[0] === "" ? ["x"] : r))];
        const text = records.map((r) => r.join(",")).join(nl) + (ended ? nl : "");
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        async function* chunks() {
          let at = 0;
          for (const p of [...points, text.length]) {
            if (p > at) yield text.slice(at, p);
            at = p;
          }
        }
        const last = records[records.length - 1];
        const shouldRefuse = !ended && records.length > 1 && last.length < width;
        let refused: AppError | null = null;
        try {
          for await (const _ of csvRecords(chunks(), { delimiter: ",", newline: crlf ? "\r\n" : "\n" }, { upload: true })) void _;
        } catch (err) {
          refused = err as AppError;
        }
        expect(
          refused?.message.includes(`CSV record ${records.length} (the header is record 1), the last one, has ${last.length} of`) ?? false,
        ).toBe(shouldRefuse);
        // Read as a stored file (not an upload), the same text is never refused.
        for await (const _ of csvRecords(chunks(), { delimiter: ",", newline: crlf ? "\r\n" : "\n" })) void _;
      }),
      { seed: 20261201, numRuns: 200 },
    );
  });

  it("a file already stored with such a record is still served (the check is at upload only)", async () => {
    await env.DATA.put("stored.csv", "a,b,c\n1,2,3\n4,5");
    expect(await rows("stored")).toEqual([
      ["A", "B", "C"],
      [1, 2, 3],
      [4, 5, null],
    ]);
  });
});
