// When /data uses a table's compiled form: after an upload, and after the
// Cron Trigger compiled a file put straight into R2; never for another
// version of the object, nor for another description (a changed sidecar);
// and the compiled objects stay out of the table list.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { compiledMetadata, compileTable, readingInputs } from "../../src/compiled/compile";
import { attemptKey, compiledFolder, groupKey, metaKey } from "../../src/compiled/storage";
import { compileChanged } from "../../src/compiled/triggers";
import { type Config, readConfig } from "../../src/config/config";
import worker from "../../src/index";
import type { TableEntry } from "../../src/model";
import { call, clearBucket, post } from "../helpers";
import { buildXlsx, typedRows } from "../xlsx-build";

const AUTH = { authorization: "Bearer upload-token" };
const upload = (key: string, body: string) =>
  call(
    new Request(`https://c.test/files/${key}`, {
      method: "PUT",
      body,
      headers: { ...AUTH, "content-length": String(new TextEncoder().encode(body).byteLength) },
    }),
  );
const CSV = "id,day,amount\n1,01.03.2024,1.50\n2,15.03.2024,-0\n3,02.04.2024,7\n";
const FILTER = { select: ["ID", "AMOUNT"], filter: { ">=DAY": "01.03.2024", "<=DAY": "31.03.2024", ">AMOUNT": "-1" } };

async function answer(params: Record<string, unknown>): Promise<{ form: string; text: string }> {
  const res = await post("/data", params);
  expect(res.status).toBe(200);
  return { form: res.headers.get("x-table-form") ?? "streaming", text: await res.text() };
}

const cron = async () =>
  worker.scheduled!({ cron: "*/10 * * * *", scheduledTime: Date.now(), type: "scheduled", noRetry() {} } as ScheduledController, env);

beforeEach(clearBucket);

describe("compiled forms in service", () => {
  it("serves an uploaded table compiled, with the same bytes as before it was compiled", async () => {
    await env.DATA.put("sales.csv", CSV);
    const before = [await answer({ table: "sales" }), await answer({ table: "sales", ...FILTER })];
    expect(before.map((a) => a.form)).toEqual(["streaming", "streaming"]);
    expect((await upload("sales.csv", CSV)).status).toBe(200);
    const after = [await answer({ table: "sales" }), await answer({ table: "sales", ...FILTER })];
    expect(after.map((a) => a.form)).toEqual(["compiled", "compiled"]);
    expect(after.map((a) => a.text)).toEqual(before.map((a) => a.text));
    expect(after[1].text).toBe('[["ID","AMOUNT"],[1,1.5],[2,0]]');
  });

  it("never serves a compiled form for another version: a file replaced in R2 is streamed until the cron compiles it", async () => {
    expect((await upload("sales.csv", CSV)).status).toBe(201);
    expect((await answer({ table: "sales" })).form).toBe("compiled");
    await env.DATA.put("sales.csv", "id,day,amount\n9,09.09.2024,9\n");
    expect(await answer({ table: "sales" })).toEqual({ form: "streaming", text: '[["ID","DAY","AMOUNT"],[9,"2024-09-09",9]]' });
    await cron();
    expect(await answer({ table: "sales" })).toEqual({ form: "compiled", text: '[["ID","DAY","AMOUNT"],[9,"2024-09-09",9]]' });
    // The old version's compiled objects were removed.
    const folder = compiledFolder("sales.csv")!;
    expect((await env.DATA.list({ prefix: folder })).objects.length).toBe(2);
  });

  it("streams the table when its compiled objects are gone but this isolate still knows their meta (same content put again)", async () => {
    expect((await upload("sales.csv", CSV)).status).toBe(201);
    const compiled = await answer({ table: "sales" });
    expect(compiled.form).toBe("compiled");
    await clearBucket(); // compiled objects, manifest and file gone…
    await env.DATA.put("sales.csv", CSV); // …and the same bytes (the same etag) put straight into R2
    expect(await answer({ table: "sales" })).toEqual({ form: "streaming", text: compiled.text });
  });

  it("is not used once the description changed (a sidecar retypes a column)", async () => {
    expect((await upload("sales.csv", CSV)).status).toBe(201);
    await env.DATA.put("sales.csv.schema.json", JSON.stringify({ columns: { amount: { type: "string" } } }));
    expect(await answer({ table: "sales", select: ["AMOUNT"] })).toEqual({ form: "streaming", text: '[["AMOUNT"],["1.50"],["-0"],["7"]]' });
    await cron();
    expect(await answer({ table: "sales", select: ["AMOUNT"] })).toEqual({ form: "compiled", text: '[["AMOUNT"],["1.50"],["-0"],["7"]]' });
  });

  it("keeps compiled objects out of the table list", async () => {
    expect((await upload("sales.csv", CSV)).status).toBe(201);
    const list = (await (await post("/table_list", {})).json()) as { code: string }[];
    expect(list.map((t) => t.code).filter((c) => !c.startsWith("remote_"))).toEqual(["sales"]);
  });

  it("compiles a workbook too: after its upload and by the cron, answering the streaming path's bytes", async () => {
    const book = await buildXlsx([
      {
        name: "Sheet1",
        rows: typedRows([
          ["id", "day", "amount"],
          ["1", "2024-03-01", "1.5"],
          ["2", "2024-03-15", "0.5"],
          ["3", "2024-04-02", "7"],
        ]),
      },
    ]);
    const streamed = '[["ID","AMOUNT"],[1,1.5],[2,0.5]]';
    await env.DATA.put("book.xlsx", book);
    expect(await answer({ table: "book", ...FILTER })).toEqual({ form: "streaming", text: streamed });
    await cron();
    expect(await answer({ table: "book", ...FILTER })).toEqual({ form: "compiled", text: streamed });
    const res = await call(
      new Request("https://c.test/files/book2.xlsx", {
        method: "PUT",
        body: book,
        headers: { ...AUTH, "content-length": String(book.byteLength) },
      }),
    );
    expect(res.status).toBe(201);
    expect(await answer({ table: "book2", ...FILTER })).toEqual({ form: "compiled", text: streamed });
  });

  it("tries each version once: a failed compilation is not repeated by later cron runs, a changed file is compiled", async () => {
    const config = readConfig(env);
    // A quote that never closes: the file cannot be read, so it cannot be compiled.
    await env.DATA.put("bad.csv", 'id,name\n1,"a\n2,b\n');
    const etag = (await env.DATA.head("bad.csv"))!.etag;
    expect((await compileChanged(env, config)).map((d) => [d.code, d.result.status])).toEqual([["bad", "failed"]]);
    expect(JSON.parse(await (await env.DATA.get(attemptKey(compiledFolder("bad.csv")!, etag)))!.text())).toMatchObject({
      failed: expect.stringContaining("never closed"),
    });
    expect(await compileChanged(env, config)).toEqual([]); // not tried again
    // An invocation that died mid-compilation (the CPU limit) leaves its marker the same way.
    await env.DATA.put("big.csv", CSV);
    const big = (await env.DATA.head("big.csv"))!.etag;
    const bigEntry = { code: "big", title: "big", source: { kind: "r2" as const, key: "big.csv", extension: "csv", gzip: false } };
    await env.DATA.put(attemptKey(compiledFolder("big.csv")!, big), "{}", {
      customMetadata: compiledMetadata(await readingInputs(env, config, bigEntry, big)),
    });
    expect(await compileChanged(env, config)).toEqual([]);
    // The file fixed: a new version, compiled, and its folder holds only that version.
    await env.DATA.put("bad.csv", "id,name\n1,a\n2,b\n");
    expect((await compileChanged(env, config)).map((d) => [d.code, d.result.status])).toEqual([["bad", "compiled"]]);
    const folder = compiledFolder("bad.csv")!;
    expect(
      (await env.DATA.list({ prefix: folder })).objects.map((o) => o.key.slice(folder.length).replace(/^[0-9a-f]+/, "<etag>")),
    ).toEqual(["<etag>.g0", "<etag>.meta.json"]);
  });

  it("removes a deleted file's compiled forms; a restore is compiled again by the cron", async () => {
    expect((await upload("sales.csv", CSV)).status).toBe(201);
    const folder = compiledFolder("sales.csv")!;
    expect((await env.DATA.list({ prefix: folder })).objects.length).toBe(2);
    const del = await call(new Request("https://c.test/files/sales.csv", { method: "DELETE", headers: AUTH }));
    expect(del.status).toBe(200);
    expect((await env.DATA.list({ prefix: folder })).objects).toEqual([]);
    const { previousVersion } = (await del.json()) as { previousVersion: string };
    expect(
      (
        await call(
          new Request(`https://c.test/files/sales.csv/restore?version=${encodeURIComponent(previousVersion)}`, {
            method: "POST",
            headers: AUTH,
          }),
        )
      ).status,
    ).toBe(200);
    expect((await answer({ table: "sales" })).form).toBe("streaming");
    await cron();
    expect((await answer({ table: "sales" })).form).toBe("compiled");
  });
});

const config: Config = readConfig(env);
const FIVE_ROWS = "id,day,amount\n1,01.03.2024,1.50\n2,15.03.2024,-0\n3,02.04.2024,7\n4,03.04.2024,7\n5,04.04.2024,8\n";
const entryOf = (key: string): TableEntry => ({
  code: key.replace(/\W/g, "_"),
  title: key,
  source: { kind: "r2", key, extension: "csv", gzip: false },
});
const keysIn = async (prefix: string) => (await env.DATA.list({ prefix })).objects.map((o) => o.key).sort();

// Stale and leaked compiled objects, and states the cron never leaves (a meta it counts as
// compiled that the serving path cannot use).
describe("stale and leaked compiled objects", () => {
  it("compiles again a version whose meta is layout 1's (the cron must not count it as compiled)", async () => {
    await env.DATA.put("sales.csv", FIVE_ROWS);
    const live = (await env.DATA.head("sales.csv"))!;
    const folder = compiledFolder("sales.csv")!;
    // What a layout-1 deployment left: its meta and its one data object.
    await env.DATA.put(
      metaKey(folder, live.etag),
      JSON.stringify({
        layout: 1,
        source: { key: "sales.csv", etag: live.etag, size: live.size },
        description: "x",
        rows: 5,
        dataSize: 10,
        groups: [],
      }),
    );
    await env.DATA.put(`${folder}${live.etag}.data`, "0123456789");
    const before = await answer({ table: "sales" });
    expect(before.form).toBe("streaming");
    await cron();
    expect(await answer({ table: "sales" })).toEqual({ form: "compiled", text: before.text });
    expect(await keysIn(folder)).toEqual([groupKey(folder, live.etag, 0), metaKey(folder, live.etag)].sort());
    // …and once compiled in this layout, the cron leaves it alone.
    expect((await compileChanged(env, config)).filter((d) => d.code === "sales")).toEqual([]);
  });

  it("leaves no group objects behind when the same version is compiled again into fewer groups", async () => {
    const key = "sales.csv";
    await env.DATA.put(key, FIVE_ROWS);
    const entry = entryOf(key);
    expect(await compileTable(env, config, entry, { groupRows: 2 })).toMatchObject({ status: "compiled", groups: 3 });
    expect(await compileTable(env, config, entry, { groupRows: 100 })).toMatchObject({ status: "compiled", groups: 1 });
    const folder = compiledFolder(key)!;
    const live = (await env.DATA.head(key))!;
    expect(await keysIn(folder)).toEqual([groupKey(folder, live.etag, 0), metaKey(folder, live.etag)].sort());
  });

  it("compiles again a version whose meta names group objects that are gone (e.g. deleted by an aborted compile of the same etag)", async () => {
    expect((await upload("sales.csv", FIVE_ROWS)).status).toBe(201);
    const compiled = await answer({ table: "sales" });
    expect(compiled.form).toBe("compiled");
    const folder = compiledFolder("sales.csv")!;
    const live = (await env.DATA.head("sales.csv"))!;
    await env.DATA.delete(groupKey(folder, live.etag, 0));
    expect(await answer({ table: "sales" })).toEqual({ form: "streaming", text: compiled.text });
    await cron();
    expect(await answer({ table: "sales" })).toEqual({ form: "compiled", text: compiled.text });
  });
});
