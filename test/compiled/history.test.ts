// History independence (fast-check, fixed seed): random sequences of uploads,
// direct R2 puts, sidecar puts and deletes (through the Worker and straight
// into R2), restores, deletes, cron runs and a configuration change on a few
// tables (a report layout, cp1251 declared as koi8-r, a two-sheet workbook,
// decimal commas and long integers, and two row groups of ASCII whose last
// records are cp1251, past the description's sample); after every step
// each /data answer equals what a fresh Worker answers: no cached
// descriptions or metas, and no compiled forms (their metas are set aside
// while it answers, then put back as they were).
//
// The fresh answers are asked after the Worker's own, so the Worker's caches
// at each step hold what it learned serving the previous step.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { forgetDescriptions } from "../../src/catalog/describe";
import { forgetMetas } from "../../src/compiled/serve";
import { COMPILED_PREFIX } from "../../src/compiled/storage";
import worker from "../../src/index";
import { cp1251 } from "../cp1251";
import { clearBucket, TOKEN } from "../helpers";
import { buildXlsx, typedRows } from "../xlsx-build";

const AUTH = { authorization: "Bearer upload-token" };
const bytesOf = (body: string | Uint8Array) => (typeof body === "string" ? new TextEncoder().encode(body) : body);
const files = (method: string, path: string, body?: string | Uint8Array) =>
  call(
    new Request(`https://c.test/files/${path}`, {
      method,
      headers: { ...AUTH, ...(body !== undefined ? { "content-length": String(bytesOf(body).byteLength) } : {}) },
      body: body === undefined ? undefined : bytesOf(body),
    }),
  );
/** The configuration in force: DEFAULT_DATE_FORMAT changes how slash dates in filters read (a "config" step flips it). */
let config: Env = env;
const cron = () =>
  worker.scheduled!({ cron: "*/10 * * * *", scheduledTime: Date.now(), type: "scheduled", noRetry() {} } as ScheduledController, config);
const call = (request: Request) =>
  worker.fetch(request, config, { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext);
const DATE_FORMATS = ["DD.MM.YYYY", "MM/DD/YYYY"];

/** 20,000 ASCII records (two row groups, past the 1 MiB sample), then two in cp1251. */
function lateCp1251(): Uint8Array {
  const pad = "x".repeat(40);
  const head = new TextEncoder().encode(
    `id,name,note\n${Array.from({ length: 20_000 }, (_, i) => `${i + 1},n${i % 97},${pad}`).join("\n")}\n`,
  );
  const tail = cp1251("20001,Москва,Итог\n20002,Тверь,ёлка\n");
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

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
      contents: [
        "name,qty,amount\nA,5,10.25\nB,7,20.50\nTotal,12,30.75\n",
        "Report\n\nname,qty,amount\nC,1,2\nИтого,1,2\n",
        "name,qty,amount\nA,5,x\nTotal,5,10.25\n",
      ],
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
          {
            name: "2024",
            rows: sheet([
              ["1", "100"],
              ["2", "200"],
            ]),
          },
          {
            name: "2025",
            rows: sheet([
              ["1", "150"],
              ["2", "250"],
              ["3", "350"],
            ]),
          },
        ]),
        await buildXlsx([
          { name: "2024", rows: sheet([["4", "400"]]) },
          { name: "2025", rows: sheet([["5", "550"]]) },
        ]),
      ],
      sidecars: ['{"sheet":"2025"}', '{"sheet":"2024"}', '{"sheet":"2026"}'],
      queries: [{}, { filter: { ">=SALES": "200" } }],
    },
    {
      key: "num.csv",
      code: "num",
      contents: [
        "id;qty;big;day\n1;1,5;9007199254740993;31.01.2024\n2;2.000;12;01.02.2024\n3;15,25;00012;02.03.2024\n",
        "id;qty;big;day\n4;1.234,5;1e5;05.01.2024\n5;7;16;06.02.2024\n",
      ],
      sidecars: ['{"columns":{"big":{"type":"string"}}}', '{"columns":{"qty":{"type":"double"},"big":{"type":"int"}}}'],
      queries: [{}, { filter: { "<QTY": "100", ">=DAY": "02/01/2024" } }],
    },
    {
      key: "late.csv",
      code: "late",
      contents: [lateCp1251(), "id,name,note\n1,a,b\n"],
      sidecars: ['{"encoding":"windows-1251"}', '{"columns":{"id":{"type":"string"}}}'],
      queries: [{ filter: { ">=ID": "19998" } }, { select: ["NAME"], filter: { "=ID": ["16384", "16385", "20002"] } }],
    },
  ];
}

type Op =
  | { kind: "upload" | "put"; table: number; content: number }
  | { kind: "sidecar-upload" | "sidecar-put"; table: number; sidecar: number }
  | { kind: "sidecar-delete" | "sidecar-remove" | "restore" | "delete"; table: number }
  | { kind: "cron" }
  | { kind: "config" };

const TABLES = 5;
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom("upload" as const, "put" as const), table: fc.nat(TABLES - 1), content: fc.nat(2) }),
  fc.record({ kind: fc.constantFrom("sidecar-upload" as const, "sidecar-put" as const), table: fc.nat(TABLES - 1), sidecar: fc.nat(3) }),
  fc.record({
    kind: fc.constantFrom("sidecar-delete" as const, "sidecar-remove" as const, "restore" as const, "delete" as const),
    table: fc.nat(TABLES - 1),
  }),
  fc.constant({ kind: "cron" as const }),
  fc.constant({ kind: "cron" as const }),
  fc.constant({ kind: "config" as const }),
);

async function apply(o: Op, all: Table[]): Promise<void> {
  if (o.kind === "cron") return cron();
  if (o.kind === "config") {
    config = { ...env, DEFAULT_DATE_FORMAT: DATE_FORMATS[(DATE_FORMATS.indexOf(config.DEFAULT_DATE_FORMAT) + 1) % DATE_FORMATS.length] };
    return;
  }
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
      const res = await call(
        new Request("https://c.test/data", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ table: t.code, ...q, connection: { token: TOKEN } }),
        }),
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
    let configSteps = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
        await clearBucket();
        config = env;
        forgetDescriptions();
        forgetMetas();
        // Every table starts uploaded (compiled), so that the first steps change something that is served.
        for (const t of all) await (await files("PUT", t.key, t.contents[0])).arrayBuffer();
        if (steps === 0) {
          // The starting point is itself right, so that agreeing with a fresh Worker means something.
          const start = (await answers(all)).join("\n");
          for (const cell of [
            '[20001,"Москва","Итог"]',
            '["Тверь"]',
            '[1,1.5,"9007199254740993","2024-01-31"]',
            '"DAY"],[3,15.25,"00012","2024-03-02"]]',
            '[1,"Москва"]',
            '["A",5],["B",7]]',
          ])
            expect(start).toContain(cell);
        }
        for (const [i, o] of ops.entries()) {
          await apply(o, all);
          if (o.kind === "config") configSteps++;
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
    expect(configSteps).toBeGreaterThan(0);
    expect(ownCompiled).toBeGreaterThan(steps); // about one answer in five, or more, came from a compiled form
  }, 120_000);
});
