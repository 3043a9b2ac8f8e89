// Every answer is pulled, never pushed. The real Worker in workerd
// (Miniflare on loopback; its RSS and CPU from /proc): for each answer path, a
// client that reads nothing and one that reads slowly keep workerd within
// RSS_BOUND of where it was, a client that goes away stops its CPU within a
// second, and GET / answers meanwhile. Answers of 1.2 GB (3,000 rows of a
// 1 KB column selected 400 times) and 48 MB (the paths without a select);
// bench/pull-memory.ts runs the same cases with longer holds (bench/PULL.md).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeOutcome, runClient, startWorkerd, type Workerd } from "../../bench/pull-harness";
import { cases, setupTables } from "../../bench/pull-memory";

/** What one answer may add to workerd's RSS, whatever its size and its client (docs/limits.md). */
const RSS_BOUND = 64 * 1024 * 1024;
/** workerd's CPU in the second after a client left one second before, at most (an idle workerd: 0). */
const CPU_AFTER = 0.1;

let w: Workerd;
beforeAll(async () => {
  w = await startWorkerd();
  await setupTables(w, 3000, 48_000);
}, 60_000);
afterAll(async () => {
  await w?.mf.dispose();
});

describe("every answer path holds workerd to a bound, whatever its client does", () => {
  for (const c of cases(400)) {
    it(c.name, async () => {
      const none = await runClient(w, c, "none", { holdMs: 1500 });
      const slow = await runClient(w, c, "slow", { holdMs: 1500, rate: 2 * 1024 * 1024 });
      const gone = await runClient(w, c, "gone", { holdMs: 5000, goneAfter: 1024 * 1024 });
      for (const o of [none, slow, gone]) console.log(describeOutcome(o));
      for (const o of [none, slow, gone]) {
        expect(o.peakRss - o.baseRss).toBeLessThan(RSS_BOUND);
        expect(o.statusMs).not.toBeNull();
        expect(o.statusMs!).toBeLessThan(2000);
      }
      expect(none.received).toBeGreaterThan(0);
      expect(slow.received).toBeGreaterThan(1024 * 1024); // it did read
      expect(gone.received).toBeGreaterThanOrEqual(1024 * 1024);
      expect(gone.cpuAfter!).toBeLessThan(CPU_AFTER);
    }, 30_000);
  }

  it("answers GET / after all of them", async () => {
    const res = await fetch(`${w.url}/`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});
