// Every write of a table — its
// file's PUT, its sidecar's PUT, a restore, a DELETE — is serialised per
// table code (src/uploads/lock.ts). Each race is played with real concurrent
// requests in one isolate; a gate holds one request at the point where,
// without the lock, the other one would slip in. A write whose lease lapsed
// and was taken by another write changes nothing (409 UPLOAD_CONFLICT).
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors";
import worker from "../../src/index";
import { withTableLock } from "../../src/uploads/lock";
import { call, clearBucket, errorOf, post, table } from "../helpers";

const AUTH = { authorization: "Bearer upload-token" };
const enc = new TextEncoder();
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const file = (path: string, init: RequestInit = {}) =>
  call(new Request(`https://c.test/files${path}`, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } }));
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
async function gated(
  method: string,
  key: string,
  text: string,
  envOverride: Env = env,
): Promise<{ response: Promise<Response>; release: () => void; reading: Promise<void> }> {
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
  const request = new Request(`https://c.test/files/${key}`, {
    method,
    body,
    headers: { ...AUTH, "x-content-sha256": await sha256Hex(text) },
    duplex: "half",
  } as RequestInit);
  return { response: worker.fetch(request, envOverride, ctx), release, reading };
}

const bodyOf = async (r: Response) => ({
  status: r.status,
  body: (await r.json()) as { table?: string; error?: { code: string; message: string } },
});

beforeEach(clearBucket);

describe("a sidecar PUT and a table PUT of one table never interleave", () => {
  it("a schema uploaded while the file is being replaced is refused (409), and the table stays right", async () => {
    expect((await upload("a.csv", "a;b\n1;2\n")).status).toBe(201);
    const slow = await gated("PUT", "a.csv", "a,b\n1,2\n");
    await slow.reading;
    // Without the lock: checked against the `;` file still live, stored (201), and the `,` file then read with `;`: [["A_B"],[1.2]].
    const err = await errorOf(await upload("a.csv.schema.json", '{"delimiter":";"}'));
    expect(err.status).toBe(409);
    expect(err.code).toBe("WRITE_IN_PROGRESS");
    expect(err.message).toBe(
      'Another write of the table "a" (an upload, schema upload, restore or delete of one of its files) is in progress, so "a.csv.schema.json" was not changed. Retry in a few seconds (the other write\'s lease ends within 30 s if it stalled).',
    );
    slow.release();
    expect((await slow.response).status).toBe(200);
    expect(await env.DATA.head("a.csv.schema.json")).toBeNull();
    expect(await rows("a")).toEqual([
      ["A", "B"],
      [1, 2],
    ]);
  });

  it("a file uploaded while its schema is being stored is refused (409), and the schema matches the file", async () => {
    expect((await upload("b.csv", "a;b\n1;2\n")).status).toBe(201);
    const slow = await gated("PUT", "b.csv.schema.json", '{"delimiter":";"}');
    await slow.reading;
    // Without the lock: the `,` file went live (200), then the schema checked against it passed too: [["A_B"],[1.2]].
    const err = await errorOf(await upload("b.csv", "a,b\n1,2\n"));
    expect(err).toMatchObject({ status: 409, code: "WRITE_IN_PROGRESS" });
    slow.release();
    expect((await slow.response).status).toBe(201);
    expect(await rows("b")).toEqual([
      ["A", "B"],
      [1, 2],
    ]);
  });
});

describe("two new keys racing for one table code", () => {
  it('sales.csv and Sales.csv uploaded at once: one gets the code, the other 409 (never both "sales")', async () => {
    const first = await gated("PUT", "sales.csv", "n\nlower\n");
    await first.reading;
    const second = await gated("PUT", "Sales.csv", "n\nupper\n");
    await Promise.race([second.reading, tick(200)]); // without the lock both would read their bodies, past their code checks
    first.release();
    second.release();
    const [a, b] = await Promise.all([first.response.then(bodyOf), second.response.then(bodyOf)]);
    // Without the lock: both answer 201 {"table":"sales"}, and sales.csv's code silently became sales_<hash>.
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
    const del = worker.fetch(
      new Request("https://c.test/files/d.csv", { method: "DELETE", headers: AUTH }),
      { ...env, DATA: slowDeletes },
      ctx,
    );
    await atDelete;
    // Without the lock: this PUT answers 200, then the DELETE (200) removed it, and "new" existed nowhere.
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
      new Request("https://c.test/files/big.csv", {
        method: "PUT",
        body,
        headers: { ...AUTH, "content-length": String(enc.encode(body).byteLength) },
      }),
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
