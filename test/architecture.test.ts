// One home for errors, auth, configuration and formats. What the
// seams promise, asserted from outside (HTTP) where a caller can see it.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { AppError, type ErrorCode, STATUS } from "../src/errors";
import { call, clearBucket, errorOf, phpBody, post, put } from "./helpers";

beforeEach(clearBucket);

describe("errors: one status table", () => {
  it("an AppError's status is its code's, from the one table", () => {
    for (const [code, status] of Object.entries(STATUS)) {
      expect(new AppError(code as ErrorCode, "m").status).toBe(status);
    }
    expect(new AppError("CONFIG_INVALID", "m").status).toBe(500);
  });

  it("a JSON header-array record wider than its header is JSON_MALFORMED, not CSV_MALFORMED", async () => {
    await put("wide.json", '[["a","b"],[1,2],[3,4,5]]');
    const e = await errorOf(await post("/table_description", { table: "wide" }));
    expect(e).toMatchObject({ status: 422, code: "JSON_MALFORMED" });
    expect(e.message).toContain(
      "Record 3 (the header is record 1) has 3 fields but the header has 2. Check that record for an extra value",
    );
  });

  it("the !ERROR trailer of a cut data answer is the same error body as an error answer", async () => {
    const header = "id,name\n";
    const good = "1,a\n".repeat(300_000); // past the 1 MiB sample, so the answer has started
    await put("late.csv", `${header}${good}2,"never closed\n`);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await post("/data", { table: "late" });
    expect(res.status).toBe(200);
    const text = await res.text();
    const trailer = text.slice(text.lastIndexOf("\n!ERROR ") + 8).trim();
    expect(JSON.parse(trailer)).toEqual({ error: { code: "CSV_MALFORMED", message: expect.stringContaining("never closed") } });
    expect(logged).toHaveBeenCalledWith(expect.stringContaining("CSV_MALFORMED"));
    logged.mockRestore();
  });
});

describe("auth runs before validation", () => {
  it("no token and a bad limit: 401 TOKEN_MISSING, not 400", async () => {
    const e = await errorOf(await post("/data", { connection: {}, table: "x", limit: "abc" }));
    expect(e).toMatchObject({ status: 401, code: "TOKEN_MISSING" });
  });

  it("a wrong token and a bad limit: 403 TOKEN_INVALID", async () => {
    const e = await errorOf(await post("/data", { connection: { token: "nope" }, table: "x", limit: "abc" }));
    expect(e).toMatchObject({ status: 403, code: "TOKEN_INVALID" });
  });

  it("a good token and a bad limit: 400 REQUEST_INVALID", async () => {
    const e = await errorOf(await post("/data", { table: "x", limit: "abc" }));
    expect(e).toMatchObject({ status: 400, code: "REQUEST_INVALID" });
  });

  it("a token of the wrong shape (a list) is TOKEN_MISSING, not a validation error", async () => {
    const res = await call(
      new Request("https://connector.test/check", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: await phpBody({ connection: { token: ["a", "b"] } }),
      }),
    );
    expect(await errorOf(res)).toMatchObject({ status: 401, code: "TOKEN_MISSING" });
  });
});
