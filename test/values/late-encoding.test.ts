// A reader's decisions are values made once per reading: a file whose first
// MiB is ASCII and whose cp1251 rows come at its end is read whole by every
// request, however many came before it in the same isolate (one full read used
// to switch the cached description's reader to windows-1251 for good, and the
// next reads then failed with FILE_ENCODING_INVALID at the first byte ≥ 0x80
// of the byte reading).
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { csv } from "../../src/formats/csv";
import type { RecordReader } from "../../src/model";
import { cp1251 } from "../cp1251";
import { clearBucket, post, put } from "../helpers";

const ROWS = 60_000;

/** 60,000 ASCII rows (1.4 MB, past the 1 MiB sample), then two rows in Windows-1251. */
function lateBytes(): Uint8Array {
  let text = "id;city;amount\r\n";
  for (let i = 1; i <= ROWS; i++) text += `${i};Kazan-on-Volga;1,5\r\n`;
  const head = new TextEncoder().encode(text);
  const tail = cp1251(`${ROWS + 1};Москва;2,25\r\n${ROWS + 2};Казань;3,5\r\n`);
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/** One /data answer, checked whole: every row, the Cyrillic ones last, no !ERROR trailer. */
async function readWhole(code: string, params: Record<string, unknown> = {}): Promise<void> {
  const res = await post("/data", { table: code, ...params });
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text.slice(-300)).not.toContain("!ERROR");
  const rows = JSON.parse(text) as unknown[][];
  expect(rows.length).toBe(1 + ROWS + 2);
  expect(rows[0]).toEqual(["ID", "CITY", "AMOUNT"]);
  expect(rows[1]).toEqual([1, "Kazan-on-Volga", 1.5]);
  expect(rows[ROWS]).toEqual([ROWS, "Kazan-on-Volga", 1.5]);
  expect(rows[ROWS + 1]).toEqual([ROWS + 1, "Москва", 2.25]);
  expect(rows[ROWS + 2]).toEqual([ROWS + 2, "Казань", 3.5]);
}

beforeEach(clearBucket);

describe("an ASCII-first file with cp1251 rows at its end, read again and again in one isolate", () => {
  it("put straight into R2: requests 1, 2 and 3 are each served whole", async () => {
    expect(lateBytes().length).toBeGreaterThan(1024 * 1024);
    await put("late.csv", lateBytes());
    for (let request = 1; request <= 3; request++) await readWhole("late");
  });

  it("put straight into R2: a filtered read (the text reading) between whole ones changes nothing", async () => {
    await put("late2.csv", lateBytes());
    await readWhole("late2");
    const res = await post("/data", { table: "late2", filter: { ">ID": String(ROWS) } });
    expect(JSON.parse(await res.text())).toEqual([
      ["ID", "CITY", "AMOUNT"],
      [ROWS + 1, "Москва", 2.25],
      [ROWS + 2, "Казань", 3.5],
    ]);
    await readWhole("late2");
  });

  it("a URL table: requests 1, 2 and 3 are each served whole", async () => {
    const res = await fetch(`${(env as unknown as { HELPER_ORIGIN: string }).HELPER_ORIGIN}/mutable/late`, {
      method: "PUT",
      body: lateBytes(),
      headers: { "content-type": "text/csv" },
    });
    expect(res.status).toBe(204);
    for (let request = 1; request <= 3; request++) await readWhole("remote_late");
  });
});

describe("the reader's decisions are a value", () => {
  async function* once(bytes: Uint8Array) {
    yield bytes;
  }

  it("a whole read decides the open encoding for itself, reports it, and leaves the reader as it was", async () => {
    const bytes = lateBytes();
    const reader = await csv.detect({ sample: bytes.subarray(0, 1024 * 1024), complete: false }, { name: "csv" });
    expect(reader.decisions?.()).toEqual({ encoding: { encoding: "utf-8", how: "ascii" }, dialect: { delimiter: ";", newline: "\r\n" } });
    expect(Object.isFrozen(reader) && Object.isFrozen(reader.decisions?.())).toBe(true);
    const decided: RecordReader[] = [];
    for (let read = 0; read < 2; read++) {
      let last: string[] = [];
      for await (const batch of reader.records(once(bytes), false, { onDecided: (r) => decided.push(r) }))
        last = batch[batch.length - 1] as string[];
      expect(last).toEqual([String(ROWS + 2), "Казань", "3,5"]);
    }
    expect(reader.decisions?.()).toEqual({ encoding: { encoding: "utf-8", how: "ascii" }, dialect: { delimiter: ";", newline: "\r\n" } });
    expect(decided.map((r) => (r.decisions!() as { encoding: { encoding: string } }).encoding.encoding)).toEqual([
      "windows-1251",
      "windows-1251",
    ]);
    expect(decided[0].byteRecords).toBeUndefined(); // a single-byte file is read as text
  });
});
