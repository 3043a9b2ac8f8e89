// History independence (fast-check, fixed seed): random sequences of uploads,
// direct R2 puts, sidecar puts and deletes (through the Worker and straight
// into R2), restores, deletes and cron runs on a few tables; after every step
// each /data answer equals what a fresh Worker answers: no cached
// descriptions or metas, and no compiled forms (their metas are set aside
// while it answers, then put back as they were).
//
// The fresh answers are asked after the Worker's own, so the Worker's caches
// at each step hold what it learned serving the previous step.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { forgetDescriptions } from "../../src/catalog/describe";
import { forgetMetas } from "../../src/compiled/serve";
import { COMPILED_PREFIX } from "../../src/compiled/storage";
import { callDirect, clearBucket, TOKEN } from "../helpers";
import { cp1251 } from "../cp1251";
import { buildXlsx, typedRows } from "../xlsx-build";

const AUTH = { authorization: "Bearer upload-token" };
const bytesOf = (body: string | Uint8Array) => (typeof body === "string" ? new TextEncoder().encode(body) : body);
const files = (method: string, path: string, body?: string | Uint8Array) =>
  callDirect(new Request(`https://c.test/files/${path}`, { method, headers: { ...AUTH, ...(body !== undefined ? { "content-length": String(bytesOf(body).byteLength) } : {}) }, body: body === undefined ? undefined : bytesOf(body) }));
const cron = () => worker.scheduled!({ cron: "*/10 * * * *", scheduledTime: Date.now(), type: "scheduled", noRetry() {} } as ScheduledController, env);

interface Table {
  key: string;
  code: string;
  contents: (string | Uint8Array)[];
  sidecars: string[];
  queries: Record<string, unknown>[];
}

async function tables(): Promise<Table[]> {
  const sheet = (rows: string[][]) => typedRows([["month", "sales"], ...rows]);
  return [
    {
      key: "foot.csv",
      code: "foot",
      contents: ["name,qty,amount\nA,5,10.25\nB,7,20.50\nTotal,12,30.75\n", "Report\n\nname,qty,amount\nC,1,2\nИтого,1,2\n", "name,qty,amount\nA,5,x\nTotal,5,10.25\n"],
      sidecars: ['{"footerRows":0}', '{"footerRows":1}', '{"columns":{"qty":{"type":"string"}}}', '{"headerRow":3}'],
      queries: [{}, { select: ["NAME", "QTY"], filter: { ">QTY": "1" } }],
    },
    {
      key: "enc.csv",
      code: "enc",
      contents: [cp1251("id,city\n1,Москва\n2,Тверь\n"), cp1251("id,city\n3,Омск\n4,Ёлки\n")],
      sidecars: ['{"encoding":"koi8-r"}', '{"encoding":"windows-1251"}', '{"columns":{"id":{"type":"string"}}}'],
      queries: [{}],
    },
    {
      key: "book.xlsx",
      code: "book",
      contents: [
        await buildXlsx([
          { name: "2024", rows: sheet([["1", "100"], ["2", "200"]]) },
          { name: "2025", rows: sheet([["1", "150"], ["2", "250"], ["3", "350"]]) },
        ]),
        await buildXlsx([
          { name: "2024", rows: sheet([["4", "400"]]) },
          { name: "2025", rows: sheet([["5", "550"]]) },
        ]),
      ],
      sidecars: ['{"sheet":"2025"}', '{"sheet":"2024"}', '{"sheet":"2026"}'],
      queries: [{}, { filter: { ">=SALES": "200" } }],
    },
  ];
}

type Op =
  | { kind: "upload" | "put"; table: number; content: number }
  | { kind: "sidecar-upload" | "sidecar-put"; table: number; sidecar: number }
  | { kind: "sidecar-delete" | "sidecar-remove" | "restore" | "delete"; table: number }
  | { kind: "cron" };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom("upload" as const, "put" as const), table: fc.nat(2), content: fc.nat(2) }),
  fc.record({ kind: fc.constantFrom("sidecar-upload" as const, "sidecar-put" as const), table: fc.nat(2), sidecar: fc.nat(3) }),
  fc.record({ kind: fc.constantFrom("sidecar-delete" as const, "sidecar-remove" as const, "restore" as const, "delete" as const), table: fc.nat(2) }),
  fc.constant({ kind: "cron" as const }),
  fc.constant({ kind: "cron" as const }),
);

async function apply(o: Op, all: Table[]): Promise<void> {
  if (o.kind === "cron") return cron();
  const t = all[o.table];
  const sidecar = `${t.key}.schema.json`;
  switch (o.kind) {
    case "upload":
      await (await files("PUT", t.key, t.contents[o.content % t.contents.length])).arrayBuffer();
      return;
    case "put":
      await env.DATA.put(t.key, t.contents[o.content % t.contents.length]);
      return;
    case "sidecar-upload":
      await (await files("PUT", sidecar, t.sidecars[o.sidecar % t.sidecars.length])).arrayBuffer();
      return;
    case "sidecar-put":
      await env.DATA.put(sidecar, t.sidecars[o.sidecar % t.sidecars.length]);
      return;
    case "sidecar-delete":
      await (await files("DELETE", sidecar)).arrayBuffer();
      return;
    case "sidecar-remove":
      await env.DATA.delete(sidecar);
      return;
    case "restore":
      await (await files("POST", `${t.key}/restore`, "")).arrayBuffer();
      return;
    case "delete":
      await (await files("DELETE", t.key)).arrayBuffer();
      return;
  }
}

// Answers the Worker gave from a compiled form (the property must exercise that path).
let compiledAnswers = 0;

async function answers(all: Table[]): Promise<string[]> {
  const out: string[] = [];
  for (const t of all) {
    for (const q of t.queries) {
      const res = await callDirect(
        new Request("https://c.test/data", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ table: t.code, ...q, connection: { token: TOKEN } }) }),
      );
      if (res.headers.get("x-table-form") === "compiled") compiledAnswers++;
      out.push(`${t.code} ${JSON.stringify(q)} ${res.status} ${await res.text()}`);
    }
  }
  return out;
}

/** What a fresh Worker answers: no caches, the compiled forms' metas set aside (then put back unchanged). */
async function freshAnswers(all: Table[]): Promise<string[]> {
  forgetDescriptions();
  forgetMetas();
  const metas: { key: string; body: ArrayBuffer; customMetadata?: Record<string, string> }[] = [];
  for (const o of (await env.DATA.list({ prefix: COMPILED_PREFIX })).objects) {
    if (!o.key.endsWith(".meta.json")) continue;
    const obj = (await env.DATA.get(o.key))!;
    metas.push({ key: o.key, body: await obj.arrayBuffer(), customMetadata: obj.customMetadata });
  }
  if (metas.length) await env.DATA.delete(metas.map((m) => m.key));
  try {
    return await answers(all);
  } finally {
    for (const m of metas) await env.DATA.put(m.key, m.body, { customMetadata: m.customMetadata });
    forgetMetas();
  }
}

describe("history independence", () => {
  it("after every step of random histories, every /data answer is a fresh Worker's (fast-check, fixed seed)", async () => {
    const all = await tables();
    let steps = 0;
    let ownCompiled = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
        await clearBucket();
        forgetDescriptions();
        forgetMetas();
        // Every table starts uploaded (compiled), so that the first steps change something that is served.
        for (const t of all) await (await files("PUT", t.key, t.contents[0])).arrayBuffer();
        for (const [i, o] of ops.entries()) {
          await apply(o, all);
          const before = compiledAnswers;
          const ours = await answers(all);
          ownCompiled += compiledAnswers - before;
          const fresh = await freshAnswers(all);
          steps++;
          expect(ours, `after step ${i + 1} of ${JSON.stringify(ops.slice(0, i + 1))}`).toEqual(fresh);
        }
      }),
      { seed: 20260420, numRuns: 12, endOnFailure: true },
    );
    expect(steps).toBeGreaterThan(40);
    expect(ownCompiled).toBeGreaterThan(steps); // about one answer in five, or more, came from a compiled form
  }, 120_000);
});
