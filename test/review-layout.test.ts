// Review: the totals hold-back keeps a run of empty rows as a count, but a
// data row after the run released it all at once — a million `,,` lines (2 MB,
// a few KB gzipped) became a million row arrays in one batch, each as wide as
// the table: a 1,000-column header made that 8 GB. Released rows now come out
// in batches of RELEASE_BATCH, and the rows read are exactly the same.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { FooterFilter, MAX_HELD_TOTALS, RELEASE_BATCH } from "../src/formats/report-layout";
import type { FooterRule, TextRow } from "../src/model";
import { clearBucket, gzip, post, table } from "./helpers";

const totals: FooterRule = { kind: "totals", numeric: [1, 2], maxHeld: MAX_HELD_TOTALS };
const data = (n: number): TextRow => [`item ${n}`, String(n), "1,5"];
const empty: TextRow = ["", null, ""];

beforeEach(clearBucket);

describe("a long run of empty rows released by a data row", () => {
  it("is handed out in batches, in order, never made in one push", () => {
    const filter = new FooterFilter(totals, 3);
    const N = 200_000;
    const out: TextRow[] = [];
    filter.push(data(1), 2, out);
    for (let i = 0; i < N; i++) filter.push(empty, 3 + i, out);
    expect(out).toEqual([data(1)]); // held: a count
    filter.push(data(2), 3 + N, out);
    // Before: all 200,001 rows were pushed into `out` here.
    expect(out.length).toBeLessThanOrEqual(RELEASE_BATCH);
    expect(filter.backlogged).toBe(true);
    const batches = [out.length];
    let all = out.length;
    let last: TextRow = [];
    while (filter.backlogged) {
      const batch: TextRow[] = [];
      filter.drain(batch);
      expect(batch.length).toBeLessThanOrEqual(RELEASE_BATCH);
      batches.push(batch.length);
      all += batch.length;
      last = batch[batch.length - 1];
      expect(batch.slice(0, -1).every((r) => r.length === 3 && r.every((c) => c === null))).toBe(true);
    }
    expect(all).toBe(N + 2);
    expect(last).toEqual(data(2));
    // The next row goes straight out again.
    const after: TextRow[] = [];
    filter.push(data(3), 4 + N, after);
    expect(after).toEqual([data(3)]);
    expect(filter.end()).toEqual({ rows: [], count: 0 });
  });

  it("rows pushed while released rows wait keep their place, and a footer after them is still dropped", () => {
    const filter = new FooterFilter(totals, 3);
    const out: TextRow[] = [];
    filter.push(data(1), 2, out);
    for (let i = 0; i < RELEASE_BATCH + 5; i++) filter.push(empty, 3 + i, out);
    filter.push(data(2), 1000_000, out);
    // A caller that pushes before draining (describe's in-memory sample) still gets the file's order.
    filter.push(data(3), 1000_001, out);
    filter.push(["Итого", "5", ""], 1000_002, out);
    filter.drain(out, Infinity);
    expect(out.length).toBe(1 + RELEASE_BATCH + 5 + 2);
    expect(out.slice(-2)).toEqual([data(2), data(3)]);
    expect(filter.end()).toEqual({ count: 1, rows: [{ row: 1000_002, reason: "total", firstCell: "Итого" }] });
  });

  it("/data reads a file with 5,000 empty rows inside and a totals row at the end exactly", async () => {
    const text = `name,n,v\na,1,2\n${",,\n".repeat(5000)}b,3,4\nTotal,4,6\n`;
    await env.DATA.put("gaps.csv.gz", await gzip(text));
    const rows = await table(await post("/data", { table: "gaps" }));
    expect(rows.length).toBe(1 + 1 + 5000 + 1);
    expect(rows[0]).toEqual(["NAME", "N", "V"]);
    expect(rows[1]).toEqual(["a", 1, 2]);
    expect(rows.slice(2, 5002).every((r) => r.length === 3 && r.every((c) => c === null))).toBe(true);
    expect(rows[5002]).toEqual(["b", 3, 4]);
  });
});
