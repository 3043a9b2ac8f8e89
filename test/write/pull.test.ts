// Every answer is pulled. A client that reads one chunk and
// stops holds the Worker to a few pieces of its answer, whatever the path
// (text rows, byte records, compiled groups, a select that repeats a column);
// a client that goes away (its body cancelled, or its request's signal
// aborted) stops the production and the source's read within a second.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import worker from "../../src/index";
import { answerMeter, PIECE_BYTES } from "../../src/write/urldata";
import { callDirect, clearBucket, formRequest, phpBody, put, TOKEN } from "../helpers";

/** urlDataBody's chunk (CHUNK_BYTES) plus the piece that may overflow it, plus one cell. */
const CHUNK_MAX = 256 * 1024 + PIECE_BYTES + 2048;
/** What may be made ahead of the client: the chunk it asked for and the one after it. */
const AHEAD_MAX = 2 * CHUNK_MAX;

const cron = async () =>
  worker.scheduled!({ cron: "*/10 * * * *", scheduledTime: Date.now(), type: "scheduled", noRetry() {} } as ScheduledController, env);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) break;
    await sleep(10);
  }
  return Date.now() - t0;
}

/** 300 rows of one 1 KB column: with `select` repeating it 200 times, a 60 MB answer. */
const LONG = Array.from({ length: 300 }, (_, i) => `${String(i).padStart(4, "0")}${"x".repeat(1020)}`);

async function request(params: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  const body = await phpBody({ connection: { token: TOKEN }, ...params });
  const req = formRequest("/data", body);
  return callDirect(signal ? new Request(req, { signal }) : req);
}

/** Reads `chunks` chunks, then stops reading; returns the reader, the bytes read and the largest chunk. */
async function readSome(res: Response, chunks: number) {
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let read = 0;
  let largest = 0;
  let text = "";
  for (let i = 0; i < chunks; i++) {
    const { value, done } = await reader.read();
    if (done) break;
    read += value.byteLength;
    largest = Math.max(largest, value.byteLength);
    if (text.length < 4000) text += new TextDecoder().decode(value.subarray(0, 4000));
  }
  return { reader, read, largest, text };
}

beforeEach(async () => {
  await clearBucket();
  // Answers of earlier tests have ended (or were cancelled) before this one counts.
  await until(() => answerMeter.open === 0, 2000);
});

describe("a client that reads one chunk and stops holds the Worker to a few pieces", () => {
  const cases: [string, () => Promise<void>, string | null][] = [
    ["byte records (UTF-8 CSV)", () => put("pull/dup.csv", `T\n${LONG.join("\n")}\n`), null],
    ["text rows (JSON)", () => put("pull/dup.json", JSON.stringify(LONG.map((T) => ({ T })))), null],
    [
      "compiled groups",
      async () => {
        await put("pull/dup.csv", `T\n${LONG.join("\n")}\n`);
        await cron();
      },
      "compiled",
    ],
  ];
  for (const [name, make, form] of cases) {
    it(`${name}, select repeating a 1 KB column 200 times (a 60 MB answer)`, async () => {
      await make();
      const enqueued0 = answerMeter.enqueued;
      const open0 = answerMeter.open;
      const res = await request({ table: "pull_dup", select: Array(200).fill("T") });
      expect(res.headers.get("x-table-form")).toBe(form);
      const { reader, read, largest, text } = await readSome(res, 3);
      expect(text.startsWith(`[["T","T",`)).toBe(true);
      expect(text).toContain(`"0000xxx`);
      expect(largest).toBeLessThanOrEqual(CHUNK_MAX);
      await sleep(300); // time to run ahead, if it would
      expect(answerMeter.enqueued - enqueued0 - read).toBeLessThanOrEqual(AHEAD_MAX);
      expect(answerMeter.open).toBe(open0 + 1);
      // Gone: production stops and the source is released within a second.
      await reader.cancel();
      expect(await until(() => answerMeter.open === open0, 1000)).toBeLessThan(1000);
      const after = answerMeter.enqueued;
      await sleep(200);
      expect(answerMeter.enqueued).toBe(after);
    });
  }

  it("a compiled whole-table answer (piped from R2) ends when its client goes away", async () => {
    await put("pull/wide.csv", `A,B\n${LONG.map((t, i) => `${i},${t}`).join("\n")}\n`);
    await cron();
    const open0 = answerMeter.open;
    const res = await request({ table: "pull_wide" });
    expect(res.headers.get("x-table-form")).toBe("compiled");
    const { reader, text } = await readSome(res, 1);
    expect(text.startsWith(`[["A","B"]`)).toBe(true);
    expect(answerMeter.open).toBe(open0 + 1);
    await reader.cancel();
    expect(await until(() => answerMeter.open === open0, 1000)).toBeLessThan(1000);
  });

  it("a compiled answer that repeats a column is cut into pieces inside a row, byte for byte the streamed one", async () => {
    const select = Array(300).fill("T"); // rows of 300 KB: wider than a piece
    await put("pull/dup.csv", `T\n${LONG.slice(0, 20).join("\n")}\n`);
    const streamed = await (await request({ table: "pull_dup", select })).text();
    await cron();
    const res = await request({ table: "pull_dup", select });
    expect(res.headers.get("x-table-form")).toBe("compiled");
    const reader = res.body!.getReader();
    const chunks: Uint8Array[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    expect(Math.max(...chunks.map((c) => c.byteLength))).toBeLessThanOrEqual(CHUNK_MAX);
    expect(await new Blob(chunks).text()).toBe(streamed);
    expect(streamed.length).toBe(20 * (300 * 1027 + 2) + 3 + 300 * 4);
  });
});

describe("the request's signal stops an answer", () => {
  const helper = (env as unknown as { HELPER_ORIGIN: string }).HELPER_ORIGIN;
  const stats = async (id: string) =>
    (await fetch(`${helper}/stats/${id}`)).json() as Promise<{ bytes: number; closed: boolean; done: boolean } | null>;

  it("cancels a URL table's upstream read within a second when the client's request is aborted mid-answer", async () => {
    const gone = new AbortController();
    const open0 = answerMeter.open;
    const res = await request({ table: "remote_drip_2" }, gone.signal);
    const { text } = await readSome(res, 1);
    expect(text.startsWith(`[["N","S"]`)).toBe(true);
    await sleep(500);
    expect(await stats("d2")).toMatchObject({ closed: false });
    const t0 = Date.now();
    gone.abort(); // the body is neither read nor cancelled: only the signal says the client left
    await until(async () => (await stats("d2"))?.closed === true, 3000);
    expect(await stats("d2")).toMatchObject({ closed: true, done: false });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await until(() => answerMeter.open === open0, 1000)).toBeLessThan(1000);
  });
});
