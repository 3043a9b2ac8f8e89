// The compiled path answers exactly the bytes of the streaming path: random
// tables (every column type, odd cells, declared types) compiled into tiny
// row groups (so stats skip groups), and random requests from the filter
// generator (nested groups, date ranges, IN, LIKE, isnull, negation; select
// with repeats, mapFields, limit), each answered both ways and compared.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { describeTable } from "../../src/catalog/describe";
import { compileTable } from "../../src/compiled/compile";
import { compiledForm } from "../../src/compiled/serve";
import { compiledFolder, groupKey, Meta, metaKey } from "../../src/compiled/storage";
import { type Config, readConfig } from "../../src/config/config";
import { tableByteRows } from "../../src/formats/byte-rows";
import { tableRows } from "../../src/formats/rows";
import type { TableEntry } from "../../src/model";
import { answerQuery } from "../../src/query/answer";
import { planQuery } from "../../src/query/pipeline";
import type { DataRequest } from "../../src/request/schemas";
import { answerStream } from "../../src/write/urldata";
import { type GenRequest, genRequest, genTable, tableFiles } from "../generators";
import { answerText } from "../helpers";

const config: Config = readConfig(env);
const entryOf = (key: string): TableEntry => ({
  code: key.replace(/\W/g, "_"),
  title: key,
  source: { kind: "r2", key, extension: "csv", gzip: false },
});
const dataRequest = (r: GenRequest): DataRequest =>
  ({ table: "t", select: r.select, filter: r.filter, limit: r.limit, mapFields: r.mapFields }) as DataRequest;
const ascii = (v: unknown) => JSON.stringify(v).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** Requests the byte reading answered (formats/byte-rows.ts), to show the comparison is not vacuous. */
let bytewise = 0;

/**
 * The streaming path's answer (routes/data.ts without the compiled form), or its error code.
 * `bytes`: read as byte records where the reader has them (as routes/data.ts does), else as text.
 */
async function streamed(entry: TableEntry, req: DataRequest, dateFormat: GenRequest["dateFormat"], bytes_ = false): Promise<string> {
  const { description, bytes } = await describeTable(env, config, entry);
  let plan;
  try {
    plan = planQuery(description, req, dateFormat);
  } catch (err) {
    await bytes.return(undefined);
    return `error ${(err as { code?: string }).code}`;
  }
  const byteRows = bytes_ ? tableByteRows(bytes, description) : null;
  if (byteRows) bytewise++;
  const rows = byteRows ?? tableRows(bytes, description);
  return answerText(description, plan, rows);
}

/** The answer from the compiled form (answerQuery with it), or null when the file answered. */
async function compiledAnswer(
  e: typeof env,
  entry: TableEntry,
  req: DataRequest,
  dateFormat: GenRequest["dateFormat"],
): Promise<Response | null> {
  const answer = await answerQuery(
    { env: e, config, entry },
    { ...req, connection: { date_format: dateFormat } },
    { forms: [compiledForm] },
  );
  const body = answerStream(answer.header, answer.rows, entry.code);
  if (answer.form === "compiled") return new Response(body);
  await body.cancel();
  return null;
}

async function compiled(entry: TableEntry, req: DataRequest, dateFormat: GenRequest["dateFormat"]): Promise<string> {
  try {
    const res = await compiledAnswer(env, entry, req, dateFormat);
    if (!res) return "not compiled";
    return await res.text();
  } catch (err) {
    return `error ${(err as { code?: string }).code}`;
  }
}

/** Puts `table` at `key`, compiles it into groups of `groupRows`, and answers every request both ways: the same text each time. */
async function bothWays(
  key: string,
  table: Parameters<typeof tableFiles>[0],
  groupRows: number,
  requests: GenRequest[],
): Promise<{ compared: number; rows: number }> {
  const { csv, sidecar } = tableFiles(table);
  await env.DATA.put(key, csv);
  await env.DATA.put(`${key}.schema.json`, JSON.stringify(sidecar));
  const entry = entryOf(key);
  expect((await compileTable(env, config, entry, { groupRows })).status).toBe("compiled");
  let rows = 0;
  for (const r of requests) {
    const req = dataRequest(r);
    const want = await streamed(entry, req, r.dateFormat);
    const got = await compiled(entry, req, r.dateFormat);
    const fromBytes = await streamed(entry, req, r.dateFormat, true);
    // Shown ASCII-only: a lone surrogate in a failure message breaks the test runner's socket.
    if (got !== want)
      expect({ csv: ascii(csv), groupRows, request: ascii(r), got: ascii(got) }).toEqual({
        csv: ascii(csv),
        groupRows,
        request: ascii(r),
        got: ascii(want),
      });
    if (fromBytes !== want)
      expect({ csv: ascii(csv), request: ascii(r), bytes: ascii(fromBytes) }).toEqual({
        csv: ascii(csv),
        request: ascii(r),
        bytes: ascii(want),
      });
    if (!want.startsWith("error")) rows += (JSON.parse(want) as unknown[]).length - 1;
  }
  return { compared: requests.length, rows };
}

describe("compiled vs streaming", () => {
  it("answers the same bytes for random tables, group sizes and requests", async () => {
    const cases = fc.sample(
      fc
        .tuple(genTable, fc.integer({ min: 1, max: 9 }))
        .chain(([t, g]) => fc.tuple(fc.constant(t), fc.constant(g), fc.array(genRequest(t.columns), { minLength: 4, maxLength: 8 }))),
      { seed: 1402, numRuns: 100 },
    );
    let compared = 0;
    let rowsAnswered = 0;
    for (const [n, [table, groupRows, requests]] of cases.entries()) {
      const answered = await bothWays(`cmp/t${n}.csv`, table, groupRows, requests);
      compared += answered.compared;
      rowsAnswered += answered.rows;
    }
    expect(compared).toBeGreaterThan(400);
    expect(rowsAnswered).toBeGreaterThan(500);
    // The byte reading answered most requests too (not those refused by planQuery), the same bytes as the text reading.
    expect(bytewise).toBeGreaterThan(compared * 0.6);
  });

  it("answers the same bytes when every column keeps a dictionary (few distinct cells per group)", async () => {
    const cases = fc.sample(
      fc
        .tuple(genTable, fc.integer({ min: 4, max: 20 }), fc.integer({ min: 1, max: 4 }))
        .chain(([t, g, k]) =>
          fc.tuple(fc.constant(t), fc.constant(g), fc.constant(k), fc.array(genRequest(t.columns), { minLength: 6, maxLength: 10 })),
        ),
      { seed: 2402, numRuns: 60 },
    );
    let compared = 0;
    let dicts = 0;
    for (const [n, [base, groupRows, k, requests]] of cases.entries()) {
      if (base.rows.length === 0) continue;
      // Few distinct cells per column: each column cycles through the first `k` cells of its own.
      const pools = base.columns.map((_, c) => [...new Set(base.rows.map((r) => r[c]))].slice(0, k));
      const rows = Array.from({ length: 45 }, (_, r) => base.columns.map((_, c) => pools[c][(r * (c + 1) + (r >> 2)) % pools[c].length]));
      const table = { columns: base.columns, rows };
      const key = `cmp/d${n}.csv`;
      compared += (await bothWays(key, table, groupRows, requests)).compared;
      const etag = (await env.DATA.head(key))!.etag;
      dicts += Meta.parse(await (await env.DATA.get(metaKey(compiledFolder(key)!, etag)))!.json())
        .groups.flatMap((g) => g.dicts)
        .filter((d) => d !== null).length;
    }
    expect(compared).toBeGreaterThan(300);
    expect(dicts).toBeGreaterThan(200);
  });

  it("two-byte dictionary codes (257+ distinct cells) and the 256/257 boundary", async () => {
    for (const distinct of [256, 257, 300]) {
      const lines = ["ID,V,S"];
      for (let i = 0; i < 1400; i++)
        lines.push([i, i % distinct === 3 ? "" : `${(i * 37) % distinct}.50`, `s${(i * 11) % distinct}`].join(","));
      const key = `cmp/u16-${distinct}.csv`;
      await env.DATA.put(key, `${lines.join("\n")}\n`);
      const entry = entryOf(key);
      expect((await compileTable(env, config, entry, { groupRows: 700 })).status).toBe("compiled");
      const meta = Meta.parse(await (await env.DATA.get(metaKey(compiledFolder(key)!, (await env.DATA.head(key))!.etag)))!.json());
      expect(meta.groups.every((g) => g.dicts[1]?.entries !== undefined && g.dicts[2] !== null)).toBe(true);
      const filters: Record<string, unknown>[] = [
        { ">V": ["250"] },
        { "=S": ["s255", "s256", "s299"] },
        { ">V": ["100"], "<V": ["290"], "%S": "s2" },
        { LOGIC: "OR", "=V": ["256.5"], "=S": ["s1"] },
        { isnullV: true },
      ];
      for (const filter of filters)
        for (const select of [undefined, ["V", "ID"], ["S", "V", "V"]])
          for (const limit of [0, 5, 800]) {
            const req = { table: "t", select, filter, limit } as DataRequest;
            const want = await streamed(entry, req, "DD.MM.YYYY");
            const got = await compiled(entry, req, "DD.MM.YYYY");
            if (got !== want)
              expect({ distinct, filter, select, limit, got: got.slice(0, 300) }).toEqual({
                distinct,
                filter,
                select,
                limit,
                got: want.slice(0, 300),
              });
          }
    }
  });

  it("skips groups by min/max exactly: ranges on many-valued number and date columns", async () => {
    // 600 rows, dates ascending (a day each, some empty), 50 rows per group: more than 32 distinct values per group.
    const day = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 86400000).toISOString().slice(0, 10);
    const lines = ["ID,D,T,N,S"];
    for (let i = 0; i < 600; i++)
      lines.push(
        [
          i,
          i % 97 === 5 ? "" : day(i),
          `${day(i)} ${String(i % 24).padStart(2, "0")}:30:00`,
          i % 13 === 0 ? "" : ((i * 7919) % 1000) / 8,
          `s${i % 7}`,
        ].join(","),
      );
    const key = "cmp/sorted.csv";
    await env.DATA.put(key, `${lines.join("\n")}\n`);
    const entry = entryOf(key);
    expect((await compileTable(env, config, entry, { groupRows: 50 })).status).toBe("compiled");
    const bound = fc.oneof(
      fc.integer({ min: -5, max: 610 }).map(day),
      fc.integer({ min: -5, max: 610 }).map((i) => day(i).split("-").reverse().join(".")),
    );
    const num = fc.oneof(
      fc.integer({ min: -10, max: 620 }).map(String),
      fc.double({ min: -1, max: 130, noNaN: true }).map((n) => String(Math.round(n * 8) / 8)),
    );
    const op = fc.constantFrom(">=", ">", "<=", "<", "!>=", "!<", "><", "=");
    const part = fc.oneof(
      fc
        .tuple(op, fc.constantFrom("D", "T"), bound, bound)
        .map(([o, f, a, b]) => ({ [`${o}${f}`]: o === "><" ? [a, b] : o === "=" ? [a, b] : a })),
      fc
        .tuple(op, fc.constantFrom("ID", "N"), num, num)
        .map(([o, f, a, b]) => ({ [`${o}${f}`]: o === "><" ? [a, b] : o === "=" ? [a, b] : [a] })),
    );
    const requests = fc.sample(
      fc.record({
        parts: fc.array(part, { minLength: 1, maxLength: 3 }),
        select: fc.constantFrom(undefined, ["ID", "N"], ["D", "S", "ID"]),
        limit: fc.constantFrom(0, 0, 7),
      }),
      { seed: 1403, numRuns: 300 },
    );
    for (const r of requests) {
      const filter: Record<string, unknown> = {};
      r.parts.forEach((p, i) => (Object.keys(p)[0] in filter ? (filter[i] = p) : Object.assign(filter, p)));
      const req = { table: "t", select: r.select, filter, limit: r.limit } as DataRequest;
      const want = await streamed(entry, req, "DD.MM.YYYY");
      const got = await compiled(entry, req, "DD.MM.YYYY");
      if (got !== want) expect({ filter, got }).toEqual({ filter, got: want });
    }
  });

  it("pipes every row and every column from the stored rows sections; a group replaced under the answer ends it with FILE_CHANGED", async () => {
    const key = "cmp/whole.csv";
    await env.DATA.put(key, 'id,name,amount\n1,a,1.50\n2,"b, c",2.25\n3,\u0434,7\n4,,\n5,e,10\n6,f,2\n7,g,3\n');
    const entry = entryOf(key);
    expect(await compileTable(env, config, entry, { groupRows: 2 })).toMatchObject({ status: "compiled", groups: 4 });
    const folder = compiledFolder(key)!;
    const live = (await env.DATA.head(key))!;
    const meta = Meta.parse(await (await env.DATA.get(metaKey(folder, live.etag)))!.json());
    // Reads recorded: the piped answer asks for each group's rows bytes only, past the row ends.
    const reads: string[] = [];
    const DATA = new Proxy(env.DATA, {
      get: (target, prop) =>
        prop === "get"
          ? (k: string, o?: R2GetOptions) => {
              if (k.startsWith(folder) && o?.range)
                reads.push(`${k.slice(folder.length + live.etag.length + 1)}@${(o.range as { offset: number }).offset}`);
              return target.get(k, o);
            }
          : Reflect.get(target, prop).bind(target),
    });
    const req = { table: "t" } as DataRequest;
    const want = await streamed(entry, req, "DD.MM.YYYY");
    expect(want).toBe('[["ID","NAME","AMOUNT"],[1,"a",1.50],[2,"b, c",2.25],[3,"\u0434",7],[4,null,null],[5,"e",10],[6,"f",2],[7,"g",3]]');
    const res = (await compiledAnswer({ ...env, DATA }, entry, req, "DD.MM.YYYY"))!;
    expect(res).not.toBeNull();
    expect(await res.text()).toBe(want);
    expect(reads).toEqual(meta.groups.map((g, i) => `g${i}@${g.rowSection[0] + 4 * g.rows}`));
    // Group 2 replaced (a recompilation racing this isolate's cached meta): rows up to it, then the error line.
    await env.DATA.put(groupKey(folder, live.etag, 2), "something else");
    const cut = await (await compiledAnswer(env, entry, req, "DD.MM.YYYY"))!.text();
    expect(cut.slice(0, cut.indexOf("\n"))).toBe('[["ID","NAME","AMOUNT"],[1,"a",1.50],[2,"b, c",2.25],[3,"\u0434",7],[4,null,null]');
    expect(JSON.parse(cut.slice(cut.indexOf("!ERROR ") + 7))).toMatchObject({ error: { code: "FILE_CHANGED" } });
    expect(() => JSON.parse(cut)).toThrow();
  });
});
