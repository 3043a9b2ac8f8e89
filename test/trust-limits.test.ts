// Issue 9 §2: no single request may stall or crash the isolate. Each hostile
// input from the issue is replayed here with a wall-clock bound, next to a
// correctness check that the linear replacement means the same thing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { likeMatcher } from "../src/filter/like";
import { errorOf, post, put, table } from "./helpers";

/** Wall time of `f` in ms. */
async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const v = await f();
  return [v, Date.now() - t0];
}

// The regex the engine used to compile LIKE to: the reference semantics.
function likeRegex(value: string, unicode = false): RegExp {
  const body = value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/%/g, ".*").replace(/_/g, ".");
  return new RegExp(`^${body}$`, unicode ? "su" : "s");
}

describe("LIKE matches in linear time", () => {
  it("agrees with the old regex on small inputs (property, fixed seed)", () => {
    const alphabet = fc.constantFrom("a", "b", "%", "_", ".", "*", "\n");
    const text = fc.constantFrom("a", "b", "_", "%", ".", "\n");
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 8 }), fc.string({ unit: text, maxLength: 10 }), (p, t) => {
        expect(likeMatcher(p)(t)).toBe(likeRegex(p).test(t));
      }),
      { seed: 9, numRuns: 20_000 },
    );
  });

  it.each([
    ["Laptop%", "laptop pro", false],
    ["Laptop%", "Laptop pro", true],
    ["%pro", "Laptop pro", true],
    ["%o_ p%", "Laptop pro", true],
    ["L_ptop", "Laptop", true],
    ["L_ptop", "Laptops", false],
    ["", "", true],
    ["", "a", false],
    ["%", "", true],
    ["a%a", "a", false],
    ["a%a", "aa", true],
    ["%%%%%%%%b", "a".repeat(60), false],
    ["%%%%%%%%b", "a".repeat(60) + "b", true],
  ])("%j on %j → %s", (p, t, expected) => expect(likeMatcher(p)(t)).toBe(expected));

  it("counts a character outside the BMP as one character", () => {
    expect(likeMatcher("a_b")("a😀b")).toBe(true);
    expect(likeMatcher("😀_")("😀😀")).toBe(true);
    expect(likeMatcher("__")("😀")).toBe(false);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "😀", "%", "_"), maxLength: 6 }), fc.string({ unit: fc.constantFrom("a", "😀", "b"), maxLength: 8 }), (p, t) => {
        expect(likeMatcher(p)(t)).toBe(likeRegex(p, true).test(t));
      }),
      { seed: 9, numRuns: 5_000 },
    );
  });

  it("answers the issue's hostile pattern on long cells at once", async () => {
    const cells = [60, 1_000, 100_000].map((n) => "a".repeat(n));
    await put("tl/like.csv", `ID,TXT\n${cells.map((c, i) => `${i},${c}`).join("\n")}\n`);
    for (const key of ["=%TXT", "%=TXT"]) {
      const [t, ms] = await timed(async () => table(await post("/data", { table: "tl_like", select: ["ID"], filter: { [key]: "%%%%%%%%b" } })));
      expect(t).toEqual([["ID"]]);
      expect(ms).toBeLessThan(1000);
    }
    const [t] = await timed(async () => table(await post("/data", { table: "tl_like", select: ["ID"], filter: { "=%TXT": "%a_a%" } })));
    expect(t).toEqual([["ID"], [0], [1], [2]]);
  });
});
