// No single request may stall or crash the isolate. Each hostile
// input from the issue is replayed here with a wall-clock bound, next to a
// correctness check that the linear replacement means the same thing.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { likeMatcher } from "../src/query/like";
import { gunzip } from "../src/source/open";
import { parseDateTime } from "../src/values/dates";
import { MAX_NUMBER_CHARS, parseNumber } from "../src/values/numbers";
import { urlDataBody } from "../src/write/urldata";
import { call, callDirect, capturingErrors, errorOf, formRequest, gzip, phpBody, post, postJson, put, TOKEN, table } from "./helpers";

/** Wall time of `f` in ms. */
async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const v = await f();
  return [v, Date.now() - t0];
}

// LIKE as a regex: the reference semantics.
function likeRegex(value: string, unicode = false): RegExp {
  const body = value
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/%/g, ".*")
    .replace(/_/g, ".");
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

  it("agrees with the old regex on long texts too (the indexOf path and its Shift-And fallback)", () => {
    const pattern = fc.string({ unit: fc.constantFrom("a", "b", "_", "%"), maxLength: 9 }).filter((p) => p.split("%").length <= 3);
    const text = fc.string({ unit: fc.constantFrom("a", "a", "a", "b"), minLength: 50, maxLength: 400 });
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        expect(likeMatcher(p)(t)).toBe(likeRegex(p).test(t));
      }),
      { seed: 9, numRuns: 5_000 },
    );
    const long = "a".repeat(5000) + "b" + "a".repeat(5000);
    expect(likeMatcher("%a_b_a%")(long)).toBe(true);
    expect(likeMatcher("%b_b%")(long)).toBe(false);
    expect(likeMatcher("%a_a_c%")(long)).toBe(false);
    expect(likeMatcher("%a_ba_%")(long)).toBe(true);
    expect(likeMatcher("%_b%")(long)).toBe(true);
  });

  it("stays linear on the code-point path (a character outside the BMP with a `_` pattern), and agrees with the regex there", () => {
    // Literal segments on code points used a naive scan: text × segment (32,000 × 32,000 took 6.2 s).
    const text = "😀" + "a".repeat(4 * 32_000);
    const t0 = Date.now();
    expect(likeMatcher("%_%" + "a".repeat(32_000) + "b%")(text)).toBe(false);
    expect(likeMatcher("%_%" + "a".repeat(32_000) + "%")(text)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
    const unit = fc.constantFrom("a", "b", "😀", "ё");
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom("a", "b", "😀", "_", "%"), maxLength: 8 }),
        fc.string({ unit, maxLength: 40 }),
        (p, t) => {
          expect(likeMatcher(p)(t)).toBe(
            new RegExp(
              `^${p
                .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
                .replace(/%/g, ".*")
                .replace(/_/g, ".")}$`,
              "su",
            ).test(t),
          );
        },
      ),
      { seed: 11, numRuns: 5_000 },
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
      fc.property(
        fc.string({ unit: fc.constantFrom("a", "😀", "%", "_"), maxLength: 6 }),
        fc.string({ unit: fc.constantFrom("a", "😀", "b"), maxLength: 8 }),
        (p, t) => {
          expect(likeMatcher(p)(t)).toBe(likeRegex(p, true).test(t));
        },
      ),
      { seed: 9, numRuns: 5_000 },
    );
  });

  it("answers the issue's hostile pattern on long cells at once", async () => {
    const cells = [60, 1_000, 100_000].map((n) => "a".repeat(n));
    await put("tl/like.csv", `ID,TXT\n${cells.map((c, i) => `${i},${c}`).join("\n")}\n`);
    for (const key of ["=%TXT", "%=TXT"]) {
      const [t, ms] = await timed(async () =>
        table(await post("/data", { table: "tl_like", select: ["ID"], filter: { [key]: "%%%%%%%%b" } })),
      );
      expect(t).toEqual([["ID"]]);
      expect(ms).toBeLessThan(1000);
    }
    const [t] = await timed(async () => table(await post("/data", { table: "tl_like", select: ["ID"], filter: { "=%TXT": "%a_a%" } })));
    expect(t).toEqual([["ID"], [0], [1], [2]]);
  });
});

describe("numbers and dates parse in linear time, with bounded tokens", () => {
  it("rejects a huge digit run at once, and bounds the token length", () => {
    const t0 = Date.now();
    expect(parseNumber("1".repeat(160_000) + "x", true)).toBeNull();
    expect(parseNumber("1".repeat(160_000), false)).toBeNull();
    expect(parseNumber("1".repeat(100_000) + "." + "1".repeat(100_000) + "x", false)).toBeNull();
    expect(parseDateTime("31.01.2024" + " ".repeat(100_000) + "x", "dmy")).toBeNull();
    expect(parseDateTime("2024-01-31T" + "T".repeat(100_000) + "1", "dmy")).toBeNull();
    expect(Date.now() - t0).toBeLessThan(200);
    expect(parseNumber("1".repeat(MAX_NUMBER_CHARS), false)).toBe(Number("1".repeat(MAX_NUMBER_CHARS)));
    expect(parseNumber("1".repeat(MAX_NUMBER_CHARS + 1), false)).toBeNull();
    expect(parseNumber(`  ${"1".repeat(20)}.5  `, false)).toBe(Number(`${"1".repeat(20)}.5`));
    expect(parseNumber("12.", false)).toBe(12);
    expect(parseNumber(".5", false)).toBe(0.5);
    expect(parseDateTime("31.12.9999 11:59:59.123456789 p.m. +03:00", "dmy")).toBe("9999-12-31 23:59:59");
    expect(parseDateTime("31.01.2024" + " ".repeat(40) + "10:00", "dmy")).toBeNull();
  });

  it("answers a 160,000-digit filter value with a 400 at once", async () => {
    await put("tl/num.csv", "ID,N\n1,5\n2,7\n");
    const [err, ms] = await timed(async () =>
      errorOf(await post("/data", { table: "tl_num", filter: { ">N": "1".repeat(160_000) + "x" } })),
    );
    expect(err).toMatchObject({ status: 400, code: "FILTER_INVALID" });
    expect(err.message).toContain(`"${"1".repeat(100)}…" is not a number`);
    expect(err.message.length).toBeLessThan(500);
    expect(ms).toBeLessThan(1000);
  });

  it("serves a 240,000-digit cell of an int column as null, at once", async () => {
    await put("tl/bigcell.csv", `ID,N\n1,5\n2,${"1".repeat(240_000)}\n3,${"2".repeat(240_000)}x\n`);
    await put("tl/bigcell.csv.schema.json", JSON.stringify({ columns: { N: { type: "int" } } }));
    const [t, ms] = await timed(async () => table(await post("/data", { table: "tl_bigcell" })));
    expect(t).toEqual([
      ["ID", "N"],
      [1, 5],
      [2, null],
      [3, null],
    ]);
    expect(ms).toBeLessThan(1000);
  });
});

describe("a CSV record is bounded without re-parsing it", () => {
  const unclosed = () => `A,B\n1,2\n3,"${"x".repeat(20 * 1024 * 1024)}\n4,5\n`;

  it("refuses a 20 MB unclosed quote in an upload with a 422, fast", async () => {
    const [res, ms] = await timed(() =>
      call(
        new Request("https://connector.test/files/tl/quote.csv", {
          method: "PUT",
          headers: { authorization: "Bearer upload-token" },
          body: unclosed(),
        }),
      ),
    );
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 422, code: "CSV_MALFORMED" });
    expect(err.message).toContain("record 3");
    expect(err.message).toContain("longer than 16 MB");
    expect(ms).toBeLessThan(5000);
  });

  it("ends a data answer on such a record with the !ERROR trailer, fast", async () => {
    await put("tl/quote2.csv", unclosed());
    const [[res, ms], log] = await capturingErrors(() =>
      timed(async () => {
        const r = await post("/data", { table: "tl_quote2" });
        return { status: r.status, text: await r.text() };
      }),
    );
    expect(log).toContain('{"event":"answer_failed","table":"tl_quote2","code":"CSV_MALFORMED"}');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^\[\["A","B"\],\[1,2\]\n!ERROR \{"error":\{"code":"CSV_MALFORMED"/);
    expect(ms).toBeLessThan(5000);
  });

  it("still reads a long (10 MB) quoted field that is closed", async () => {
    await put("tl/longfield.csv", `A,B\n1,"${"y".repeat(10 * 1024 * 1024)}"\n2,z\n`);
    const t = await table(await post("/data", { table: "tl_longfield", select: ["A"] }));
    expect(t).toEqual([["A"], ["1"], ["2"]]); // the 1 MiB sample holds no complete row: A is text
  });

  it("bounds one NDJSON line and one JSON array element the same way", async () => {
    await put("tl/line.ndjson", `{"a":1}\n{"a":"${"x".repeat(17 * 1024 * 1024)}\n`);
    await put("tl/elem.json", `[{"a":1},{"a":"${"x".repeat(17 * 1024 * 1024)}`);
    for (const code of ["tl_line", "tl_elem"]) {
      const [[text, ms], log] = await capturingErrors(() => timed(async () => (await post("/data", { table: code })).text()));
      expect(log).toContain(`{"event":"answer_failed","table":"${code}","code":"JSON_MALFORMED"}`);
      expect(text).toMatch(
        /^\[\["A"\],\[1\]\n!ERROR \{"error":\{"code":"JSON_MALFORMED","message":"The JSON file is not valid: record 2 is longer than 16 MB/,
      );
      expect(ms).toBeLessThan(5000);
    }
  });
});

describe("select and output batches are bounded", () => {
  it("refuses a select of 10,000 fields with a 400", async () => {
    await put("tl/sel.csv", "ID,TXT\n1,a\n");
    const err = await errorOf(await post("/data", { table: "tl_sel", select: Array(10_000).fill("TXT") }));
    expect(err).toMatchObject({ status: 400, code: "REQUEST_INVALID" });
    expect(err.message).toContain("lists 10000 fields; at most 1000");
  });

  it("answers 1,000 copies of one field in chunks of bounded size, every row as wide as the header", async () => {
    const cell = "x".repeat(2000);
    await put("tl/wide.csv", `ID,TXT\n${[1, 2, 3, 4, 5].map((i) => `${i},${cell}`).join("\n")}\n`);
    const select = [...Array(999).fill("TXT"), "ID"];
    // In-process, so the chunks read are the ones the writer made (a service binding re-chunks).
    const res = await callDirect(formRequest("/data", await phpBody({ connection: { token: TOKEN }, table: "tl_wide", select })));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
    }
    const largest = Math.max(...chunks.map((c) => c.byteLength));
    expect(largest).toBeLessThan(512 * 1024); // the answer is 10 MB; one parse batch is not one chunk
    const t = JSON.parse(await new Blob(chunks).text()) as unknown[][];
    expect(t[0]).toEqual(select);
    expect(t.slice(1)).toEqual([1, 2, 3, 4, 5].map((i) => [...Array(999).fill(cell), i]));
  });

  it("sends keep-alive spaces while the source is slow to give the next rows", async () => {
    let calls = 0;
    const pump = async () => {
      calls++;
      if (calls === 1) return ",[1]";
      if (calls === 2) {
        await new Promise((r) => setTimeout(r, 350));
        return ",[2]";
      }
      return null;
    };
    const body = urlDataBody(["A"], pump, async () => {}, "test", { keepaliveMs: 100 });
    const reader = body.getReader();
    const parts: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(new TextDecoder().decode(value));
    }
    expect(parts.join("")).toMatch(/^\[\["A"\],\[1\] {2,4},\[2\]\]$/);
    expect(parts.filter((p) => p === " ").length).toBeGreaterThanOrEqual(2);
  });
});

/** `mb` MiB of "1,2\n" rows under a header, gzipped: ~1,000:1. */
async function gzipBomb(mb: number): Promise<Uint8Array> {
  const block = new TextEncoder().encode("1,2\n".repeat(256 * 1024));
  let n = -1;
  const src = new ReadableStream<Uint8Array>({
    pull(c) {
      if (n++ < 0) c.enqueue(new TextEncoder().encode("A,B\n"));
      else if (n <= mb) c.enqueue(block);
      else c.close();
    },
  });
  return new Uint8Array(await new Response(src.pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
}

/** A stream of `data` in `piece`-byte chunks that counts what was pulled from it. */
function countedStream(data: Uint8Array, piece: number, counter: { pulled: number }): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (at >= data.byteLength) return c.close();
        const chunk = data.slice(at, at + piece);
        at += chunk.byteLength;
        counter.pulled += chunk.byteLength;
        c.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

describe("gzip is inflated only as fast as it is read", () => {
  it("pulls a few KB of a bomb to give its first MB", async () => {
    const gz = await gzipBomb(64);
    expect(gz.byteLength).toBeLessThan(100_000);
    const counter = { pulled: 0 };
    const out = gunzip(countedStream(gz, 1024, counter));
    let got = 0;
    while (got < 1024 * 1024) got += (await out.next()).value!.byteLength;
    await new Promise((r) => setTimeout(r, 200)); // nothing reads ahead in the background either
    expect(counter.pulled).toBeLessThan(8 * 1024); // of ~65 KB (the eager pipe pulled all of it)
    await out.return(undefined);
  });

  it("inflates a normal file completely and exactly", async () => {
    let text = "A,B\n";
    for (let i = 0; i < 200_000; i++) text += `${i},${(i * 7919) % 10007}\n`;
    const gz = await gzip(text);
    const counter = { pulled: 0 };
    const chunks: Uint8Array[] = [];
    for await (const c of gunzip(countedStream(gz, 3000, counter))) chunks.push(c);
    expect(await new Blob(chunks).text()).toBe(text);
  });

  it("answers limit=1 on a .csv.gz bomb at once", async () => {
    await put("tl/bomb.csv.gz", await gzipBomb(64));
    const [t, ms] = await timed(async () => table(await post("/data", { table: "tl_bomb", limit: 1 })));
    expect(t).toEqual([
      ["A", "B"],
      [1, 2],
    ]);
    expect(ms).toBeLessThan(2000);
  });

  it("refuses an uploaded bomb (over 200:1 past 16 MiB) with a 422 and keeps nothing", async () => {
    const [res, ms] = await timed(async () =>
      call(
        new Request("https://connector.test/files/tl/up-bomb.csv.gz", {
          method: "PUT",
          headers: { authorization: "Bearer upload-token" },
          body: await gzipBomb(64),
        }),
      ),
    );
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 422, code: "FILE_GZIP_TOO_LARGE" });
    expect(err.message).toContain("inflates more than 200 times");
    expect(await env.DATA.head("tl/up-bomb.csv.gz")).toBeNull();
    expect(ms).toBeLessThan(10_000);
  });

  it("still accepts an uploaded gzip file of ordinary ratio", async () => {
    let text = "A,B\n";
    for (let i = 0; i < 50_000; i++) text += `${i},${(i * 7919) % 10007}\n`;
    const res = await call(
      new Request("https://connector.test/files/tl/ok.csv.gz", {
        method: "PUT",
        headers: { authorization: "Bearer upload-token" },
        body: await gzip(text),
      }),
    );
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ rows: 50_000 });
  });
});

describe("URL bodies are read with a time and size limit", () => {
  const helper = (env as unknown as { HELPER_ORIGIN: string }).HELPER_ORIGIN;
  const stats = async (id: string) =>
    (await fetch(`${helper}/stats/${id}`)).json() as Promise<{ bytes: number; closed: boolean; done: boolean } | null>;
  const until = async (check: () => Promise<boolean>, ms = 5000) => {
    for (let t0 = Date.now(); Date.now() - t0 < ms && !(await check()); ) await new Promise((r) => setTimeout(r, 50));
  };

  it("answers a body that trickles 2 bytes every 300 ms with 504 URL_TIMEOUT within about one URL_FETCH_TIMEOUT_MS, and hangs up", async () => {
    const [err, ms] = await timed(async () => errorOf(await post("/data", { table: "remote_trickle" })));
    expect(err).toMatchObject({ status: 504, code: "URL_TIMEOUT" });
    expect(err.message).toMatch(/^Table "remote_trickle": 127\.0\.0\.1:\d+ sent only \d+ bytes in 1000 ms/);
    expect(ms).toBeLessThan(4000); // the server would go on for 15 s
    await until(async () => (await stats("t1"))?.closed === true);
    expect(await stats("t1")).toMatchObject({ closed: true, done: false });
  });

  it("answers 504 when a live but slow server cannot deliver the 1 MiB sample within twice URL_FETCH_TIMEOUT_MS", async () => {
    const [err, ms] = await timed(async () => errorOf(await post("/data", { table: "remote_slowstart" })));
    expect(err).toMatchObject({ status: 504, code: "URL_TIMEOUT" });
    expect(err.message).toMatch(/^Table "remote_slowstart": 127\.0\.0\.1:\d+ sent only \d+ bytes in 2000 ms, but the first 1048576 bytes/);
    expect(ms).toBeLessThan(5000); // the server would go on for 15 s
    await until(async () => (await stats("s1"))?.closed === true);
    expect(await stats("s1")).toMatchObject({ closed: true, done: false });
  });

  it("stops an endless body at URL_MAX_BYTES with the !ERROR trailer", async () => {
    const [text, log] = await capturingErrors(async () => (await post("/data", { table: "remote_endless_3", select: ["N"] })).text());
    expect(log).toContain('{"event":"answer_failed","table":"remote_endless_3","code":"URL_TOO_LARGE"}');
    expect(text).toMatch(
      /\n!ERROR \{"error":\{"code":"URL_TOO_LARGE","message":"Table \\"remote_endless_3\\": 127\.0\.0\.1:\d+ sent more than 8388608 bytes \(URL_MAX_BYTES\)/,
    );
    await until(async () => (await stats("size"))?.closed === true);
    const s = await stats("size");
    expect(s).toMatchObject({ closed: true, done: false });
    expect(s!.bytes).toBeLessThan(16 * 1024 * 1024);
  });

  it("cancels the upstream read at once when the client goes away, even while a read is pending", async () => {
    const res = await post("/data", { table: "remote_drip" });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    // The fast 1.5 MB are parsed; the slow rest keeps the parser waiting for its next batch.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stats("d1")).toMatchObject({ closed: false });
    const t0 = Date.now();
    await reader.cancel();
    await until(async () => (await stats("d1"))?.closed === true);
    expect(await stats("d1")).toMatchObject({ closed: true, done: false });
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});

describe("the work a filter can ask for is bounded", () => {
  const data = (filter: unknown) => postJson("/data", { connection: { token: TOKEN }, table: "tl_work", select: ["ID"], filter });

  it("takes IN lists up to 10,000 values, refuses more in all", async () => {
    await put("tl/work.csv", "ID,TXT\n1,alpha\n2,beta\n");
    const values = Array.from({ length: 10_000 }, (_, i) => String(i));
    expect(await table(await data({ "@ID": values }))).toEqual([["ID"], [1], [2]]);
    const err = await errorOf(await data({ "@ID": values, "=TXT": ["alpha"] }));
    expect(err).toMatchObject({ status: 400, code: "FILTER_INVALID" });
    expect(err.message).toBe("Filter filter[=TXT]: the filter holds more than 10000 values in all; narrow the dashboard filter.");
  });

  it("takes 1,000 contains needles, refuses 100,000 at once", async () => {
    const needles = (n: number) => Array.from({ length: n }, (_, i) => `needle ${i}`);
    expect(await table(await data({ "%TXT": [...needles(999), "ph"] }))).toEqual([["ID"], [1]]);
    const [err, ms] = await timed(async () => errorOf(await data({ "%TXT": Array.from({ length: 100_000 }, (_, i) => String(i)) })));
    expect(err).toMatchObject({ status: 400, code: "FILTER_INVALID" });
    expect(ms).toBeLessThan(2000);
    const err2 = await errorOf(await data({ "%TXT": needles(600), "!%TXT": needles(401) }));
    expect(err2.message).toContain("more than 1000 values (contains, LIKE, comparisons and date ranges count; IN lists do not)");
  });
});
