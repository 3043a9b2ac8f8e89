// What the Worker writes to its log (Workers Logs keeps it): one JSON line per
// event, and never a token nor a cell value, over a run that uploads, refuses,
// answers, fails mid-answer and compiles. The log is workerd's own output.

import type { Readable } from "node:stream";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "./worker";

const CONNECTOR = "zq-connector-token-3381";
const UPLOAD = "zq-upload-token-5527";
// Cell values (and a filter value) that must never reach the log.
const CELLS = ["ZQCELL-4471", "987654.321", "ZQBAD-9921", "ZQLATE-6610", "ZQFILTER-5532"];

let mf: Miniflare;
let url: string;
let log = "";

beforeAll(async () => {
  ({ mf, url } = await startWorker({ CONNECTOR_TOKEN: CONNECTOR, UPLOAD_TOKEN: UPLOAD }, 0, {
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      for (const s of [stdout, stderr]) s.on("data", (c: Buffer) => (log += c.toString("utf8")));
    },
  }));
});
afterAll(async () => {
  await mf.dispose();
});

const put = (key: string, body: string) =>
  fetch(`${url}/files/${key}`, { method: "PUT", headers: { authorization: `Bearer ${UPLOAD}` }, body });
const data = (params: string, token = CONNECTOR) =>
  fetch(`${url}/data`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `connection%5Btoken%5D=${token}&${params}`,
  });

/** The log's JSON lines, by event. */
function events(): Record<string, unknown>[] {
  return log
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("the Worker's log", () => {
  it("holds one JSON line per event, and no token or cell value", async () => {
    expect((await put("sales.csv", `id,name,amount\n1,${CELLS[0]},${CELLS[1]}\n2,plain,3.5\n`)).status).toBe(201);
    // A file refused at upload: its bad record is quoted to the uploader, never to the log.
    expect((await put("bad.csv", `a,b\n1,"${CELLS[2]} never closed\n`)).status).toBe(422);
    // A file put straight into R2 that fails mid-answer (its late record is not CSV).
    const late = `id,name\n${Array.from({ length: 400_000 }, (_, i) => `${i},row${i}`).join("\n")}\n1,"${CELLS[3]}"x"\n`;
    await ((await mf.getR2Bucket("DATA")) as unknown as R2Bucket).put("late.csv", late);
    const lateAnswer = await data("table=late&limit=0");
    expect(await lateAnswer.text()).toContain("!ERROR");
    // Answers, refusals with values in the request.
    expect(await (await data(`table=sales&select%5B0%5D=NAME&filter%5B%3DNAME%5D=${CELLS[0]}&limit=0`)).json()).toEqual([
      ["NAME"],
      [CELLS[0]],
    ]);
    expect((await data("table=sales&limit=0", "wrong-token")).status).toBe(403);
    expect((await data(`table=sales&filter%5B%3E%3DAMOUNT%5D=${CELLS[4]}&limit=0`)).status).toBe(400);
    // The cron compiles what it finds.
    const worker = (await mf.getWorker()) as unknown as { scheduled(options: { cron: string; scheduledTime: Date }): Promise<unknown> };
    await worker.scheduled({ cron: "*/10 * * * *", scheduledTime: new Date() });
    await new Promise((r) => setTimeout(r, 200));

    const seen = events();
    expect(seen.filter((e) => e.event === "upload")).toEqual([
      expect.objectContaining({ event: "upload", table: "sales", rows: 2, columns: 3 }),
    ]);
    expect(seen.filter((e) => e.event === "refused").map((e) => e.code)).toEqual(
      expect.arrayContaining(["CSV_MALFORMED", "TOKEN_INVALID", "FILTER_INVALID"]),
    );
    expect(seen.filter((e) => e.event === "compile")).toEqual([
      { event: "compile", table: "late", status: "failed", error: "CSV_MALFORMED" },
    ]);
    expect(seen.some((e) => e.event === "answer_failed" && e.table === "late")).toBe(true);
    for (const secret of [CONNECTOR, UPLOAD, ...CELLS]) expect(log).not.toContain(secret);
  });
});
