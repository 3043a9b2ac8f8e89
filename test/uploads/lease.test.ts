// A table write holds its lock by a lease (src/uploads/lock.ts), and checks
// that the lease is still its own before it changes anything: a schema PUT,
// a restore, a DELETE or a staged upload held up past its lease (a trickled
// body, a long copy), while another write of the table took the lock, stops
// with 409 UPLOAD_CONFLICT and nothing changed. Each case holds the write
// past a short lease and lets another write take the table.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { readConfig } from "../../src/config/config";
import { AppError } from "../../src/errors";
import { deleteFile } from "../../src/routes/files/delete";
import { putSidecar } from "../../src/routes/files/put-sidecar";
import { restoreFile } from "../../src/routes/files/restore";
import { type TableLease, withTableLock } from "../../src/uploads/lock";
import { listVersions } from "../../src/uploads/versions";
import { clearBucket, put } from "../helpers";

const enc = new TextEncoder();
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LEASE = 50;

/** A request whose body is sent once `open()` was called. */
function slowRequest(method: string, path: string, text: string): { request: Request; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      await gate;
      if (text) c.enqueue(enc.encode(text));
      c.close();
    },
  });
  return { request: new Request(`https://c.test/files/${path}`, { method, body, duplex: "half" } as RequestInit), open };
}

/**
 * Runs `write` under a LEASE ms lease of `key`'s table; while it is held up
 * (until `open` is called), the lease lapses and another write of the table
 * takes the lock and finishes. Returns what `write` threw.
 */
async function outlasted(key: string, write: (lease: TableLease) => Promise<unknown>, open: () => void): Promise<unknown> {
  let thrown: unknown = null;
  const running = withTableLock(
    env,
    key,
    (lease) =>
      write(lease).then(
        () => null,
        (err: unknown) => (thrown = err),
      ),
    LEASE,
  );
  await tick(LEASE + 60);
  // The other write (another key of the same table code): it gets the lock once the first lease lapsed.
  // On a loaded machine the first write may take its lease late, so the other one tries again until it lapsed (2 s at most).
  for (let tries = 0; ; tries++) {
    try {
      await withTableLock(env, key[0].toUpperCase() + key.slice(1), async () => {});
      break;
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "WRITE_IN_PROGRESS" || tries >= 40) throw err;
      await tick(LEASE);
    }
  }
  open();
  await running;
  return thrown;
}

const expectConflict = (thrown: unknown) => {
  expect(thrown).toBeInstanceOf(AppError);
  expect((thrown as AppError).code).toBe("UPLOAD_CONFLICT");
  expect((thrown as AppError).message).toContain("stalled for longer than its 0 s lease and another write of the table");
};

beforeEach(clearBucket);

describe("a write whose lease another write took changes nothing", () => {
  it("a schema PUT whose body outlasted the lease is not stored", async () => {
    await put("s.csv", "a;b\n1;2\n");
    const { request, open } = slowRequest("PUT", "s.csv.schema.json", '{"delimiter":";"}');
    const thrown = await outlasted(
      "s.csv.schema.json",
      (lease) => putSidecar(request, env, readConfig(env), "s.csv.schema.json", lease),
      open,
    );
    expectConflict(thrown);
    expect(await env.DATA.head("s.csv.schema.json")).toBeNull();
    expect(await listVersions(env.DATA, "s.csv.schema.json")).toEqual([]);
  });

  it("a restore that outlasted the lease leaves the live file and its versions as they were", async () => {
    await put("r.csv", "n\nold\n");
    const live = await env.DATA.head("r.csv");
    // A kept version to restore: what DELETE or a replacing PUT leaves.
    await env.DATA.put(".versions/r.csv/2026-01-01T00-00-00-000Z-00000000", "n\nkept\n", { customMetadata: { "version-of-etag": "x" } });
    const { request, open } = slowRequest("POST", "r.csv/restore", "");
    const url = new URL(request.url);
    const thrown = await outlasted("r.csv", (lease) => restoreFile(request, env, readConfig(env), url, "r.csv", "table", lease), open);
    expectConflict(thrown);
    expect((await env.DATA.head("r.csv"))?.etag).toBe(live!.etag);
    expect((await listVersions(env.DATA, "r.csv")).map((v) => v.version)).toEqual(["2026-01-01T00-00-00-000Z-00000000"]);
  });

  it("a DELETE held up past the lease does not delete", async () => {
    await put("d.csv", "n\n1\n");
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // The bucket answers the DELETE's first look only when the test lets it (a slow R2 call, a long copy).
    let first = true;
    const DATA = new Proxy(env.DATA, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (prop === "head")
          return async (key: string) => {
            const r = await target.head(key);
            if (first) {
              first = false;
              await gate;
            }
            return r;
          };
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const slowEnv = { ...env, DATA } as Env;
    const thrown = await outlasted("d.csv", (lease) => deleteFile(slowEnv, readConfig(env), "d.csv", lease), open);
    expectConflict(thrown);
    expect(await (await env.DATA.get("d.csv"))?.text()).toBe("n\n1\n");
    expect(await listVersions(env.DATA, "d.csv")).toEqual([]);
  });
});

describe("a staged (XLSX) upload whose keeping of the live file outlasted the lease", () => {
  it("is not made live", async () => {
    const { buildXlsx } = await import("../xlsx-build");
    const book = (v: string) =>
      buildXlsx([
        { name: "S", rows: `<row r="1"><c r="A1" t="inlineStr"><is><t>n</t></is></c></row><row r="2"><c r="A2"><v>${v}</v></c></row>` },
      ]);
    await env.DATA.put("w.xlsx", await book("1"));
    const live = await env.DATA.head("w.xlsx");
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let atGate!: () => void;
    const reached = new Promise<void>((r) => (atGate = r));
    // The copy of the live file to a version waits for the test (a large file's copy).
    const DATA = new Proxy(env.DATA, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (prop === "put")
          return async (key: string, ...rest: unknown[]) => {
            if (key.startsWith(".versions/")) {
              atGate();
              await gate;
            }
            return (target.put as (...a: unknown[]) => unknown).call(target, key, ...rest);
          };
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const slowEnv = { ...env, DATA } as Env;
    const body = await book("2");
    const request = new Request("https://c.test/files/w.xlsx", { method: "PUT", body, headers: { "content-length": String(body.length) } });
    const { putTable } = await import("../../src/routes/files/put-table");
    let thrown: unknown = null;
    const running = withTableLock(
      env,
      "w.xlsx",
      (lease) => putTable(request, slowEnv, readConfig(env), "w.xlsx", lease).catch((err: unknown) => (thrown = err)),
      LEASE,
    );
    await reached;
    await tick(LEASE + 60);
    await withTableLock(env, "W.xlsx", async () => {}); // the lease lapsed during the copy: another write takes the table
    open();
    await running;
    expectConflict(thrown);
    expect((await env.DATA.head("w.xlsx"))?.etag).toBe(live!.etag);
    expect((await env.DATA.list({ prefix: ".staging/" })).objects).toEqual([]);
  });
});
