// Issue 9, section 3 (the review's races): every write of a table — its
// file's PUT, its sidecar's PUT, a restore, a DELETE — is serialised per
// table code (src/uploads/lock.ts). Each race is played with real concurrent
// requests in one isolate; a gate holds one request at the point where, before
// the lock, the other one slipped in.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { AppError } from "../../src/errors";
import fc from "fast-check";
import { csvRecords } from "../../src/formats/csv/parse";
import { hostAllowed } from "../../src/source/url";
import { withTableLock } from "../../src/uploads/lock";
import { call, clearBucket, errorOf, formRequest, phpBody, post, table, TOKEN } from "../helpers";

const AUTH = { authorization: "Bearer upload-token" };
const enc = new TextEncoder();
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const file = (path: string, init: RequestInit = {}) => call(new Request(`https://c.test/files${path}`, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } }));
const upload = (key: string, body: string) => file(`/${key}`, { method: "PUT", body });
const rows = async (code: string) => table(await post("/data", { table: code }));
const tick = (ms = 50) => new Promise((r) => setTimeout(r, ms));

async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(text)));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A PUT (or POST) whose body sends all of `text` and then waits for
 * `release()` before it ends: the request is in flight, past its checks,
 * until the test lets it finish. Called in-process (same isolate).
 */
async function gated(method: string, key: string, text: string, envOverride: Env = env): Promise<{ response: Promise<Response>; release: () => void; reading: Promise<void> }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  // The stream pulls its first chunk by itself; the second pull means the Worker read it (it is past the lock).
  let readingNow!: () => void;
  const reading = new Promise<void>((r) => (readingNow = r));
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (sent) readingNow();
      if (!sent) {
        c.enqueue(enc.encode(text));
        sent = true;
        return;
      }
      await gate;
      c.close();
    },
  });
  const request = new Request(`https://c.test/files/${key}`, { method, body, headers: { ...AUTH, "x-content-sha256": await sha256Hex(text) }, duplex: "half" } as RequestInit);
  return { response: worker.fetch(request, envOverride, ctx), release, reading };
}

const bodyOf = async (r: Response) => ({ status: r.status, body: (await r.json()) as { table?: string; error?: { code: string; message: string } } });

beforeEach(clearBucket);

describe("a sidecar PUT and a table PUT of one table never interleave", () => {
  it("a schema uploaded while the file is being replaced is refused (409), and the table stays right", async () => {
    expect((await upload("a.csv", "a;b\n1;2\n")).status).toBe(201);
    const slow = await gated("PUT", "a.csv", "a,b\n1,2\n");
    await slow.reading;
    // Before: checked against the `;` file still live, stored (201), and the `,` file then read with `;`: [["A_B"],[1.2]].
    const err = await errorOf(await upload("a.csv.schema.json", '{"delimiter":";"}'));
    expect(err.status).toBe(409);
    expect(err.code).toBe("WRITE_IN_PROGRESS");
    expect(err.message).toBe(
      'Another write of the table "a" (an upload, schema upload, restore or delete of one of its files) is in progress, so "a.csv.schema.json" was not changed. Retry in a few seconds (the other write\'s lease ends within 30 s if it stalled).',
    );
    slow.release();
    expect((await slow.response).status).toBe(200);
    expect(await env.DATA.head("a.csv.schema.json")).toBeNull();
    expect(await rows("a")).toEqual([["A", "B"], [1, 2]]);
  });

  it("a file uploaded while its schema is being stored is refused (409), and the schema matches the file", async () => {
    expect((await upload("b.csv", "a;b\n1;2\n")).status).toBe(201);
    const slow = await gated("PUT", "b.csv.schema.json", '{"delimiter":";"}');
    await slow.reading;
    // Before: the `,` file went live (200), then the schema checked against it passed too: [["A_B"],[1.2]].
    const err = await errorOf(await upload("b.csv", "a,b\n1,2\n"));
    expect(err).toMatchObject({ status: 409, code: "WRITE_IN_PROGRESS" });
    slow.release();
    expect((await slow.response).status).toBe(201);
    expect(await rows("b")).toEqual([["A", "B"], [1, 2]]);
  });
});

describe("two new keys racing for one table code", () => {
  it("sales.csv and Sales.csv uploaded at once: one gets the code, the other 409 (never both \"sales\")", async () => {
    const first = await gated("PUT", "sales.csv", "n\nlower\n");
    await first.reading;
    const second = await gated("PUT", "Sales.csv", "n\nupper\n");
    await Promise.race([second.reading, tick(200)]); // before: both read their bodies, past their code checks
    first.release();
    second.release();
    const [a, b] = await Promise.all([first.response.then(bodyOf), second.response.then(bodyOf)]);
    // Before: both answered 201 {"table":"sales"}, and sales.csv's code silently became sales_<hash>.
    expect(a).toMatchObject({ status: 201, body: { table: "sales" } });
    expect(b.status).toBe(409);
    expect(b.body.error?.code).toBe("WRITE_IN_PROGRESS");
    expect(await env.DATA.head("Sales.csv")).toBeNull();
    expect(await rows("sales")).toEqual([["N"], ["lower"]]);
    // Once the first is done, the second is the ordinary code check.
    expect(await errorOf(await upload("Sales.csv", "n\nupper\n"))).toMatchObject({ status: 409, code: "TABLE_CODE_TAKEN" });
  });

  it("writes of different tables do not wait for each other", async () => {
    const slow = await gated("PUT", "one.csv", "n\n1\n");
    await slow.reading;
    expect((await upload("two.csv", "n\n2\n")).status).toBe(201);
    slow.release();
    expect((await slow.response).status).toBe(201);
  });
});

describe("a DELETE racing a PUT", () => {
  it("never deletes an upload that landed between its check and its delete", async () => {
    expect((await upload("d.csv", "n\nold\n")).status).toBe(201);
    // Hold the DELETE right at R2's (unconditional) delete of the live key.
    let reached!: () => void;
    const atDelete = new Promise<void>((r) => (reached = r));
    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    const bucket = env.DATA;
    const slowDeletes = new Proxy(bucket, {
      get(target, prop) {
        if (prop === "delete") {
          return async (keys: string | string[]) => {
            if (keys === "d.csv") {
              reached();
              await gate;
            }
            return target.delete(keys);
          };
        }
        const v = (target as unknown as Record<PropertyKey, unknown>)[prop];
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const del = worker.fetch(new Request("https://c.test/files/d.csv", { method: "DELETE", headers: AUTH }), { ...env, DATA: slowDeletes }, ctx);
    await atDelete;
    // Before: this PUT answered 200, then the DELETE (200) removed it, and "new" existed nowhere.
    const put = await errorOf(await upload("d.csv", "n\nnew\n"));
    expect(put).toMatchObject({ status: 409, code: "WRITE_IN_PROGRESS" });
    go();
    expect(((await (await del).json()) as { deleted: boolean }).deleted).toBe(true);
    expect(await env.DATA.head("d.csv")).toBeNull();
    const versions = (await (await file("/d.csv/versions")).json()) as unknown[];
    expect(versions).toHaveLength(1);
    // Afterwards the upload goes through.
    expect((await upload("d.csv", "n\nnew\n")).status).toBe(201);
    expect(await rows("d")).toEqual([["N"], ["new"]]);
  });

  it("a restore while an upload streams in is refused (409)", async () => {
    expect((await upload("r.csv", "n\nv1\n")).status).toBe(201);
    expect((await upload("r.csv", "n\nv2\n")).status).toBe(200);
    const slow = await gated("PUT", "r.csv", "n\nv3\n");
    await slow.reading;
    expect(await errorOf(await file("/r.csv/restore", { method: "POST" }))).toMatchObject({ status: 409, code: "WRITE_IN_PROGRESS" });
    slow.release();
    expect((await slow.response).status).toBe(200);
    expect(await rows("r")).toEqual([["N"], ["v3"]]);
  });
});

describe("a large upload completed in place (multipart, under the lock)", () => {
  it("is refused (409) when a write around the Worker replaced the file right before it completed, and loses nothing", async () => {
    expect((await upload("big.csv", "n\nold\n")).status).toBe(201);
    const text = `n\n${Array.from({ length: 1_000_000 }, (_, i) => `${i}`).join("\n")}\n`; // ~6.9 MB
    const body = text + text.slice(2); // past the 8 MiB part size: multipart
    // `wrangler r2 object put` lands after this upload kept the old file, right before its multipart completes.
    let kept = false;
    const around = new Proxy(env.DATA, {
      get(target, prop) {
        if (prop === "put") {
          return (key: string, ...rest: Parameters<R2Bucket["put"]>[1][]) => {
            if (key.startsWith(".versions/big.csv/")) kept = true;
            return target.put(key, ...(rest as [never]));
          };
        }
        if (prop === "head") {
          return async (key: string) => {
            if (key === "big.csv" && kept) {
              kept = false;
              await target.put("big.csv", "n\nwrangler\n");
            }
            return target.head(key);
          };
        }
        const v = (target as unknown as Record<PropertyKey, unknown>)[prop];
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const res = await worker.fetch(
      new Request("https://c.test/files/big.csv", { method: "PUT", body, headers: { ...AUTH, "content-length": String(enc.encode(body).byteLength) } }),
      { ...env, DATA: around },
      ctx,
    );
    expect(await errorOf(res)).toMatchObject({ status: 409, code: "UPLOAD_CONFLICT" });
    expect(await rows("big")).toEqual([["N"], ["wrangler"]]);
    const keys = (await env.DATA.list()).objects.map((o) => o.key).filter((k) => !/^\.(manifest|compiled)\//.test(k));
    expect(keys.filter((k) => k !== "big.csv").map((k) => k.startsWith(".versions/big.csv/"))).toEqual([true]); // "old" kept, nothing else
    const [version] = (await (await file("/big.csv/versions")).json()) as { version: string }[];
    expect(await (await env.DATA.get(`.versions/big.csv/${version.version}`))!.text()).toBe("n\nold\n");
  });
});

describe("the lock's lease", () => {
  const lockOf = (code: string) => env.TABLE_LOCK.get(env.TABLE_LOCK.idFromName(code));

  it("a crashed writer's lease expires: the table is writable again after it", async () => {
    expect(await lockOf("x").acquire("crashed-request", 1500)).toEqual({ ok: true });
    expect(await errorOf(await upload("x.csv", "n\n1\n"))).toMatchObject({ status: 409, code: "WRITE_IN_PROGRESS" });
    await tick(1700);
    expect((await upload("x.csv", "n\n1\n")).status).toBe(201);
  });

  it("is released after a refused upload", async () => {
    expect((await upload("y.csv", 'n\n"open\n')).status).toBe(422);
    expect((await upload("y.csv", "n\n1\n")).status).toBe(201);
  });

  it("a lapsed lease is still its holder's until someone else takes it", async () => {
    // Short leases only where the test waits for them to lapse; long ones where it asserts they hold.
    const lock = lockOf("lapse");
    expect(await lock.acquire("a", 100)).toEqual({ ok: true });
    await tick(150);
    expect(await lock.renew("a", 5000)).toBe(true); // lapsed, but nobody took it: no other write happened
    expect(await lock.acquire("b", 5000)).toMatchObject({ ok: false });
    expect(await lock.renew("a", 100)).toBe(true);
    await tick(150);
    expect(await lock.acquire("b", 5000)).toEqual({ ok: true });
    expect(await lock.renew("a", 5000)).toBe(false);
    await lock.release("a"); // not a's any more: b keeps it
    expect(await lock.acquire("c", 100)).toMatchObject({ ok: false });
    await lock.release("b");
    expect(await lock.acquire("c", 100)).toEqual({ ok: true });
  });

  it("a write whose lease was taken over stops with 409 before it changes anything", async () => {
    let thrown: unknown;
    await withTableLock(
      env,
      "z.csv",
      async (lease) => {
        await tick(80);
        await withTableLock(env, "Z.csv", async () => {});
        try {
          await lease.confirm();
        } catch (err) {
          thrown = err;
        }
      },
      50,
    );
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe("UPLOAD_CONFLICT");
    expect((thrown as AppError).message).toContain('another write of the table "z" started meanwhile; nothing was changed by this request');
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
    ["short_ended.csv", "a,b,c\n1,2,3\n4,5\n", [["A", "B", "C"], [1, 2, 3], [4, 5, null]]],
    ["full_unended.csv", "a,b,c\n1,2,3\n4,5,6", [["A", "B", "C"], [1, 2, 3], [4, 5, 6]]],
    ["short_middle.csv", "a,b,c\n1\n4,5,6", [["A", "B", "C"], [1, null, null], [4, 5, 6]]],
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
        expect(refused?.message.includes(`CSV record ${records.length} (the header is record 1), the last one, has ${last.length} of`) ?? false).toBe(shouldRefuse);
        // Read as a stored file (not an upload), the same text is never refused.
        for await (const _ of csvRecords(chunks(), { delimiter: ",", newline: crlf ? "\r\n" : "\n" })) void _;
      }),
      { seed: 20261201, numRuns: 200 },
    );
  });

  it("a file already stored with such a record is still served (the check is at upload only)", async () => {
    await env.DATA.put("stored.csv", "a,b,c\n1,2,3\n4,5");
    expect(await rows("stored")).toEqual([["A", "B", "C"], [1, 2, 3], [4, 5, null]]);
  });
});

describe("URL_ALLOWED_HOSTS: an entry without a port allows the scheme's default port only", () => {
  it.each([
    ["a.com", "https://a.com/x.csv", true],
    ["a.com", "http://a.com/x.csv", true],
    ["a.com", "https://a.com:443/x.csv", true],
    ["a.com", "https://a.com:8443/x.csv", false],
    ["a.com", "http://a.com:443/x.csv", false],
    ["a.com", "http://a.com:6379/", false],
    ["a.com:443", "https://a.com/x.csv", true],
    ["a.com:80", "http://a.com/x.csv", true],
    ["a.com:80", "https://a.com/x.csv", false],
    ["a.com:8443", "https://a.com:8443/x.csv", true],
    ["a.com:8443", "https://a.com/x.csv", false],
    ["[::1]:8080", "http://[::1]:8080/x.csv", true],
    ["[::1]", "http://[::1]:8080/x.csv", false],
  ])("%s allows %s: %s", (entry, url, allowed) => {
    expect(hostAllowed(new URL(url), new Set([entry]))).toBe(allowed);
  });

  const origin = env.HELPER_ORIGIN;
  const helper = new URL(origin);
  const urlData = async (allowedHosts: string, url: string) => {
    const request = formRequest("/data", await phpBody({ table: "u", connection: { token: TOKEN } }));
    const urlTables = JSON.stringify([{ code: "u", title: "U", url, format: "csv" }]);
    return worker.fetch(request, { ...env, URL_ALLOWED_HOSTS: allowedHosts, URL_TABLES: urlTables }, ctx);
  };

  it("the first request: 127.0.0.1 does not allow 127.0.0.1:<port> (403)", async () => {
    // Before: the hostname matched, and the helper on its own port was read (200).
    const err = await errorOf(await urlData("127.0.0.1", `${origin}/files/remote.csv`));
    expect(err).toEqual({
      status: 403,
      code: "URL_HOST_NOT_ALLOWED",
      message: `Table "u": the host ${helper.host} is not in URL_ALLOWED_HOSTS. Add "${helper.host}" to URL_ALLOWED_HOSTS if you trust it (an entry without a port allows only the scheme's default port).`,
    });
  });

  it("a redirect hop to another port of an allowed host is refused (403)", async () => {
    const elsewhere = `http://127.0.0.1:${Number(helper.port) === 65535 ? 65534 : Number(helper.port) + 1}/x.csv`;
    const start = `${origin}/redirect/${encodeURIComponent(elsewhere)}`;
    // Before: "127.0.0.1" matched the hop's hostname and the Worker connected to that port (502 here, nothing listens).
    const err = await errorOf(await urlData(`${helper.host}, 127.0.0.1`, start));
    expect(err).toMatchObject({ status: 403, code: "URL_HOST_NOT_ALLOWED" });
    expect(err.message).toBe(
      `Table "u": the host ${new URL(elsewhere).host} is not in URL_ALLOWED_HOSTS (reached by a redirect from ${start}). Add "${new URL(elsewhere).host}" to URL_ALLOWED_HOSTS if you trust it (an entry without a port allows only the scheme's default port).`,
    );
  });

  it("an entry with the port reads the table", async () => {
    expect(await table(await urlData(helper.host, `${origin}/files/remote.csv`))).toEqual(await rows("remote_sales"));
  });
});

describe("a JSON file whose first record is over 1 MiB is not called empty", () => {
  const big = "x".repeat(1_200_000);
  const message = (code: string) =>
    `The first record of table "${code}" does not end within the first 1048576 bytes (1 MiB) of its file, which are what the connector reads to describe a table: either that record is larger than 1 MiB (keep every record under 1 MiB: put large nested values in their own records or columns), or it is broken (a quote, bracket or brace that is never closed).`;

  it.each([
    ["wide.ndjson", `{"id":1,"blob":"${big}"}\n{"id":2,"blob":"b"}\n`],
    ["wide_array.json", `[{"id":1,"blob":"${big}"},{"id":2,"blob":"b"}]`],
    ["wide_rows.json", `[["id","${big}"],[1,"b"]]`], // a header array over 1 MiB
  ])("%s: 422 JSON_MALFORMED saying the first record is larger than the sample (before: FILE_EMPTY)", async (key, text) => {
    const code = key.replace(/\.\w+$/, "");
    await env.DATA.put(key, text);
    const res = await post("/table_description", { table: code });
    expect(await errorOf(res)).toEqual({ status: 422, code: "JSON_MALFORMED", message: message(code) });
    const up = await errorOf(await upload(`up_${key}`, text));
    expect(up).toEqual({ status: 422, code: "JSON_MALFORMED", message: `The upload to "up_${key}" was rejected and the live table is unchanged: ${message(`up_${code}`)}` });
  });

  it("a first record just under 1 MiB is served", async () => {
    const almost = "y".repeat(1_000_000);
    await env.DATA.put("near.ndjson", `{"id":1,"blob":"${almost}"}\n{"id":2,"blob":"b"}\n`);
    const got = await rows("near");
    expect(got[0]).toEqual(["ID", "BLOB"]);
    expect(got.slice(1).map(([id, blob]) => [id, (blob as string).length])).toEqual([[1, 1_000_000], [2, 1]]);
  });

  it("an empty file is still FILE_EMPTY", async () => {
    await env.DATA.put("void.ndjson", "\n\n");
    expect(await errorOf(await post("/data", { table: "void" }))).toMatchObject({ status: 422, code: "FILE_EMPTY" });
  });
});
