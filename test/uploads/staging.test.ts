// Staged (XLSX) uploads leave `.staging/<uuid>` only when their isolate dies between staging and
// discarding; such debris is swept by later staged uploads once it is older than STAGING_MAX_AGE_MS.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { STAGING_MAX_AGE_MS, STAGING_PREFIX, sweepStaging } from "../../src/uploads/staged";
import { clearBucket } from "../helpers";

beforeEach(clearBucket);

describe("staging debris", () => {
  it("deletes staging objects older than the bound, and nothing else", async () => {
    await env.DATA.put(`${STAGING_PREFIX}dead`, "x");
    await env.DATA.put("sales.csv", "id\n1\n");
    await env.DATA.put(".versions/sales.csv/1", "id\n0\n");
    expect(await sweepStaging(env.DATA)).toBe(0); // young: may be an upload in flight
    expect(await sweepStaging(env.DATA, Date.now() + STAGING_MAX_AGE_MS + 60_000)).toBe(1);
    expect((await env.DATA.list()).objects.map((o) => o.key).sort()).toEqual([".versions/sales.csv/1", "sales.csv"]);
  });
});
