// URL tables (allowlist, redirects, failures, time limit) and streaming
// behaviour observed from the serving side: a limit stops the read, and the
// first bytes leave before the file is read through.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorOf, post, table } from "../helpers";

const helper = (env as unknown as { HELPER_ORIGIN: string }).HELPER_ORIGIN;
const stats = async (id: string) => (await fetch(`${helper}/stats/${id}`)).json() as Promise<{ bytes: number; closed: boolean; done: boolean } | null>;
const until = async (check: () => Promise<boolean>) => {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
};

describe("URL tables", () => {
  it("serves a declared URL table, also through an allowed redirect", async () => {
    const expected = [["ID", "AMOUNT", "DAY"], [1, 10.5, "2024-01-31"], [2, 20, "2024-02-01"]];
    expect(await table(await post("/data", { table: "remote_sales" }))).toEqual(expected);
    expect(await table(await post("/data", { table: "remote_redirect" }))).toEqual(expected);
  });

  it("applies an inline declared schema", async () => {
    expect(await (await post("/table_description", { table: "remote_typed" })).json()).toEqual([
      { code: "ID", name: "id", type: "int" },
      { code: "AMOUNT", name: "amount", type: "string" },
      { code: "DAY", name: "day", type: "date" },
    ]);
  });

  it.each([
    ["remote_escape", 403, "URL_HOST_NOT_ALLOWED", "example.com"],
    ["remote_broken", 502, "URL_UNAVAILABLE", "HTTP 500"],
    ["remote_slow", 504, "URL_TIMEOUT", "1000 ms"],
  ])("%s → %i %s, naming the table", async (code, status, errorCode, detail) => {
    for (const path of ["/table_description", "/data"]) {
      const err = await errorOf(await post(path, { table: code }));
      expect(err).toMatchObject({ status, code: errorCode });
      expect(err.message).toContain(`Table "${code}"`);
      expect(err.message).toContain(detail);
    }
  });
});

describe("streaming", () => {
  it("stops reading the source once `limit` rows are sent", async () => {
    const t = await table(await post("/data", { table: "remote_endless", limit: 5 }));
    expect(t).toEqual([["N", "S"], [0, "row 0"], [1, "row 1"], [2, "row 2"], [3, "row 3"], [4, "row 4"]]);
    await until(async () => (await stats("limit"))?.closed === true);
    const s = await stats("limit");
    expect(s).toMatchObject({ closed: true, done: false });
    expect(s!.bytes).toBeLessThan(16 * 1024 * 1024); // of a 1 GB file
  });

  it("sends the first rows before the file is read through", async () => {
    const res = await post("/data", { table: "remote_endless_2" });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = "";
    for (let i = 0; i < 1000 && !text.includes('"row 1"'); i++) text += new TextDecoder().decode((await reader.read()).value);
    expect(text.startsWith('[["N","S"],[0,"row 0"]')).toBe(true);
    expect(await stats("first-bytes")).toMatchObject({ closed: false, done: false });
    await reader.cancel();
    await until(async () => (await stats("first-bytes"))?.closed === true);
    expect(await stats("first-bytes")).toMatchObject({ closed: true, done: false });
  });
});
