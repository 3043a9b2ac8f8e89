// Review of compiled layout 2: stale and leaked compiled objects, and states
// the cron never leaves (a meta it counts as compiled that the serving path
// cannot use).
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import { compileTable } from "../src/compiled/compile";
import { compileChanged } from "../src/compiled/triggers";
import { compiledFolder, groupKey, metaKey } from "../src/compiled/storage";
import { readConfig, type Config } from "../src/config/config";
import type { TableEntry } from "../src/model";
import { call, clearBucket, post } from "./helpers";

const config: Config = readConfig(env);
const AUTH = { authorization: "Bearer upload-token" };
const upload = (key: string, body: string) => call(new Request(`https://c.test/files/${key}`, { method: "PUT", body, headers: { ...AUTH, "content-length": String(new TextEncoder().encode(body).byteLength) } }));
const CSV = "id,day,amount\n1,01.03.2024,1.50\n2,15.03.2024,-0\n3,02.04.2024,7\n4,03.04.2024,7\n5,04.04.2024,8\n";
const entryOf = (key: string): TableEntry => ({ code: key.replace(/\W/g, "_"), title: key, source: { kind: "r2", key, extension: "csv", gzip: false } });
const cron = async () => worker.scheduled!({ cron: "*/10 * * * *", scheduledTime: Date.now(), type: "scheduled", noRetry() {} } as ScheduledController, env);
const keysIn = async (prefix: string) => (await env.DATA.list({ prefix })).objects.map((o) => o.key).sort();

async function answer(params: Record<string, unknown>): Promise<{ form: string; text: string }> {
  const res = await post("/data", params);
  expect(res.status).toBe(200);
  return { form: res.headers.get("x-table-form") ?? "streaming", text: await res.text() };
}

beforeEach(clearBucket);

describe("review2: compiled objects", () => {
  it("compiles again a version whose meta is layout 1's (the cron must not count it as compiled)", async () => {
    await env.DATA.put("sales.csv", CSV);
    const live = (await env.DATA.head("sales.csv"))!;
    const folder = compiledFolder("sales.csv")!;
    // What a layout-1 deployment left: its meta and its one data object.
    await env.DATA.put(metaKey(folder, live.etag), JSON.stringify({ layout: 1, source: { key: "sales.csv", etag: live.etag, size: live.size }, description: "x", rows: 5, dataSize: 10, groups: [] }));
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
    await env.DATA.put(key, CSV);
    const entry = entryOf(key);
    expect(await compileTable(env, config, entry, { groupRows: 2 })).toMatchObject({ status: "compiled", groups: 3 });
    expect(await compileTable(env, config, entry, { groupRows: 100 })).toMatchObject({ status: "compiled", groups: 1 });
    const folder = compiledFolder(key)!;
    const live = (await env.DATA.head(key))!;
    expect(await keysIn(folder)).toEqual([groupKey(folder, live.etag, 0), metaKey(folder, live.etag)].sort());
  });

  it("compiles again a version whose meta names group objects that are gone (e.g. deleted by an aborted compile of the same etag)", async () => {
    expect((await upload("sales.csv", CSV)).status).toBe(201);
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
