// Property-based hostile requests: random and hostile bodies, filters, select lists and
// keys thrown at the four endpoints and /files. Every answer must be JSON with
// a stable error code, or a valid urlData table (every row as wide as the
// header); no request may take longer than the stated bound; nothing crashes
// (no INTERNAL). Seeds are fixed, so a failure reproduces.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { callDirect, formRequest, phpBodies, TOKEN } from "../helpers";

/** The bound every request must answer within (small tables; hostile parameters). */
const BOUND_MS = 5_000;
const SEED = 20261201;
const ERROR_CODE = /^[A-Z][A-Z_]+$/;

const FIELDS = ["ID", "AMOUNT", "DAY", "TS", "NAME", "id", "name", "Amount"];

beforeAll(async () => {
  let csv = "id,amount,day,ts,name\n";
  for (let i = 1; i <= 300; i++) {
    csv += `${i},${(i * 7.31).toFixed(2)},${String((i % 28) + 1).padStart(2, "0")}.0${(i % 9) + 1}.2024,2024-0${(i % 9) + 1}-01 1${i % 10}:00:00,"name ${i}, ${"x".repeat(i % 50)}"\n`;
  }
  await env.DATA.put("abuse.csv", csv);
  await env.DATA.put(
    "abuse2.ndjson",
    Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: i, name: `n${i}`, amount: i / 3 })).join("\n"),
  );
});

interface Outcome {
  status: number;
  text: string;
  ms: number;
  type?: string;
}

async function send(request: Request): Promise<Outcome> {
  const started = Date.now();
  const res = await callDirect(request);
  const text = await res.text();
  return { status: res.status, text, ms: Date.now() - started, type: res.headers.get("content-type") ?? "" };
}

/** The pages the portal's frame opens answer HTML: a page with a heading, never an internal error. */
const FRAME_PAGES = new Set(["/app", "/install"]);

/** What every answer must be. */
function checkAnswer(path: string, o: Outcome): void {
  expect(o.ms, `${path} took ${o.ms} ms`).toBeLessThan(BOUND_MS);
  if (FRAME_PAGES.has(path) && o.type === "text/html; charset=utf-8") {
    expect(o.text, `${path}: ${o.text.slice(0, 300)}`).toMatch(/<h1>[^<]+<\/h1>/);
    expect(o.text).not.toContain("Internal error");
    expect(o.status === 200 || (o.status >= 400 && o.status < 600)).toBe(true);
    return;
  }
  if (o.status === 200) {
    if (path === "/data") {
      const trailer = o.text.indexOf("\n!ERROR ");
      if (trailer >= 0) {
        // A failure after the start: the body is invalid JSON by construction, with a stable code.
        const err = JSON.parse(o.text.slice(trailer + 8)) as { error: { code: string } };
        expect(err.error.code).toMatch(ERROR_CODE);
        expect(err.error.code).not.toBe("INTERNAL");
        return;
      }
      const table = JSON.parse(o.text) as unknown[][];
      expect(Array.isArray(table) && table.length >= 1).toBe(true);
      const width = table[0].length;
      for (const row of table) expect(Array.isArray(row) && row.length === width).toBe(true);
      return;
    }
    JSON.parse(o.text);
    return;
  }
  let body: { error?: { code?: unknown; message?: unknown } };
  try {
    body = JSON.parse(o.text);
  } catch {
    throw new Error(`${path}: HTTP ${o.status} with a body that is not JSON: ${o.text.slice(0, 200)}`);
  }
  expect(typeof body.error?.code === "string" && ERROR_CODE.test(body.error.code), `${path}: ${o.text.slice(0, 300)}`).toBe(true);
  expect(body.error!.code, `${path}: ${o.text.slice(0, 300)}`).not.toBe("INTERNAL");
  expect(typeof body.error!.message === "string" && (body.error!.message as string).length > 0).toBe(true);
  expect(o.status >= 400 && o.status < 600).toBe(true);
}

// ---- arbitraries -------------------------------------------------------------

const hostileText = fc.constantFrom(
  "%%%%%%%%b",
  "%_%_%_%_%_%_%_%_%_x",
  "9".repeat(5000) + "x",
  "1".repeat(400),
  "1 234,56",
  "31.01.2024",
  "31.01.2024 00:00:00",
  "01/31/2024 11:59:59 pm",
  "12/31/9999 23:59:59",
  "0",
  "",
  "__proto__",
  "constructor",
  "\u0000\u202e",
  "ё".repeat(300),
);
const value = fc.oneof(fc.string({ maxLength: 40 }), fc.integer().map(String), hostileText);
const values = fc.oneof(value, fc.array(value, { maxLength: 4 }));
const field = fc.oneof(fc.constantFrom(...FIELDS, "__proto__", "constructor", "LOGIC", "MISSING"), fc.string({ maxLength: 12 }));
const operator = fc.constantFrom(
  "",
  "=",
  "!",
  "!=",
  "%",
  "!%",
  "=%",
  "%=",
  "><",
  "!><",
  ">",
  ">=",
  "<",
  "<=",
  "@",
  "!@",
  "!>",
  "~",
  "*",
  "!!",
);

// Conditions known to have stalled or crashed the Worker, mixed in often enough to be met.
const hostileCondition = fc.constantFrom<readonly [string, unknown]>(
  ["=%NAME", "%%%%%%%%%%%%b"],
  ["%=NAME", "%_%_%_%_%_%_%_%_%_%_%_%_z"],
  [">AMOUNT", ["9".repeat(160_000) + "x"]],
  ["=DAY", "1".repeat(100_000) + ".01.2024"],
  ["%NAME", Array.from({ length: 20_000 }, (_, i) => `needle ${i}`)],
);
const condition = fc.tuple(operator, field, values).map(([op, f, v]) => [`${op}${f}`, v] as const);
const group: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ group: Record<string, unknown> }>((tie) => ({
  group: fc
    .tuple(
      fc.array(condition, { maxLength: 3 }),
      fc.array(fc.oneof({ depthSize: "small" }, tie("group")), { maxLength: 2 }),
      fc.option(fc.constantFrom("OR", "AND", "or", "XOR", ""), { nil: undefined }),
    )
    .map(([conds, groups, logic]) => {
      const g: Record<string, unknown> = {};
      for (const [k, v] of conds) g[k] = v;
      groups.forEach((sub, i) => (g[String(i)] = sub));
      if (logic !== undefined) g.LOGIC = logic;
      return g;
    }),
})).group;

const select = fc.oneof(
  fc.array(fc.constantFrom(...FIELDS), { maxLength: 8 }),
  fc.array(field, { maxLength: 5 }),
  fc.constantFrom(2_000, 10_000).map((n) => Array.from({ length: n }, () => "NAME")),
);
const table = fc.oneof(fc.constantFrom("abuse", "abuse2", "ABUSE", " abuse "), fc.string({ maxLength: 20 }));
const limit = fc.oneof(fc.nat({ max: 400 }), fc.constantFrom(-1, 0, 1e12), fc.string({ maxLength: 5 }));

const dataParams = fc.record(
  {
    table,
    select,
    // At most one hostile condition per request, at the top level (bodies stay under the 1 MiB cap).
    filter: fc.tuple(group, fc.option(hostileCondition, { freq: 4 })).map(([g, h]) => (h ? { ...g, [h[0]]: h[1] } : g)),
    limit,
    mapFields: fc.dictionary(fc.constantFrom(...FIELDS, "X"), fc.constantFrom(...FIELDS, "SUMMA", "")),
    connection: fc.record(
      {
        token: fc.constantFrom(TOKEN, TOKEN, TOKEN, "wrong", ""),
        date_format: fc.constantFrom("DD.MM.YYYY", "MM/DD/YYYY", "ДД.ММ.ГГГГ", "nonsense", ""),
      },
      { requiredKeys: ["token"] },
    ),
  },
  { requiredKeys: ["connection"] },
);

// ---- properties ----------------------------------------------------------------

describe("hostile requests: PHP-encoded portal bodies", () => {
  it("/data with random filters, selects and limits", async () => {
    const params = fc.sample(dataParams, { seed: SEED, numRuns: 250 });
    const bodies: string[] = [];
    for (let i = 0; i < params.length; i += 10) bodies.push(...(await phpBodies(params.slice(i, i + 10))));
    for (const [i, body] of bodies.entries()) {
      const o = await send(formRequest("/data", body));
      try {
        checkAnswer("/data", o);
      } catch (err) {
        throw new Error(
          `case ${i} (seed ${SEED}): ${JSON.stringify(params[i]).slice(0, 600)}\n→ ${o.status} ${o.text.slice(0, 300)}\n${(err as Error).message}`,
        );
      }
    }
  });

  it("/check, /table_list and /table_description with random parameters", async () => {
    const params = fc.sample(
      fc.record(
        { table, name: table, searchString: value, connection: fc.dictionary(fc.string({ maxLength: 10 }), value), token: value },
        { requiredKeys: [] },
      ),
      { seed: SEED + 1, numRuns: 120 },
    );
    const bodies = await phpBodies(params);
    for (const [i, body] of bodies.entries()) {
      for (const path of ["/check", "/table_list", "/table_description"]) checkAnswer(path, await send(formRequest(path, body)));
      void i;
    }
  });
});

describe("hostile requests: raw bodies", () => {
  const paths = fc.constantFrom(
    "/check",
    "/table_list",
    "/table_description",
    "/data",
    "/install",
    "/",
    "/files",
    "/nope",
    "/app",
    "/app/api/sync",
  );
  const methods = fc.constantFrom("POST", "GET", "PUT", "DELETE", "PATCH");
  const rawBody = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({
      unit: fc.constantFrom(
        "[",
        "]",
        "%",
        "&",
        "=",
        "+",
        "5B",
        "5D",
        "a",
        "0",
        "filter",
        "select",
        "connection",
        "token",
      ) as fc.Arbitrary<string>,
      maxLength: 120,
    }),
    fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ connection: { token: TOKEN }, table: "abuse", filter: v, select: v })),
    fc.constantFrom(
      "[".repeat(5000),
      `{"filter":${"[".repeat(3000)}}`,
      "connection%5Btoken%5D=" + TOKEN + "&filter" + "%5Ba%5D".repeat(40) + "=1",
      "\u00ff\u00fe",
    ),
  );
  const contentType = fc.constantFrom("application/x-www-form-urlencoded", "application/json", "text/plain", "");

  it("any method, path, content type and body", async () => {
    await fc.assert(
      fc.asyncProperty(paths, methods, rawBody, contentType, async (path, method, body, type) => {
        const init: RequestInit = { method, headers: type ? { "content-type": type } : {} };
        if (method !== "GET") init.body = body;
        const o = await send(new Request(`https://connector.test${path}`, init));
        checkAnswer(path === "/data" && o.status === 200 ? "/data" : path, o);
      }),
      { seed: SEED + 2, numRuns: 300 },
    );
  });
});

describe("hostile requests: /files keys and bodies", () => {
  const segment = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("..", ".", "", ".versions", "%2e%2e", "%00", "a\\b", "Sales", "sales-", "x.csv", "t.schema.json", "ё"),
  );
  const key = fc
    .tuple(
      fc.array(segment, { minLength: 1, maxLength: 4 }),
      fc.constantFrom(".csv", ".CSV", ".json", ".ndjson", ".csv.gz", ".schema.json", ".xlsx", "", "/versions", "/restore"),
    )
    .map(([parts, ext]) => parts.join("/") + ext);
  const fileBody = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.constantFrom("id,amount\n1,2\n", '{"a":1}\n{"a":2}\n', 'a;b\n"unclosed\n', "{}", "[]", '{"columns":{"a":{"name":"0"}}}'),
  );

  it("PUT, GET, DELETE and restore with random keys", async () => {
    await fc.assert(
      fc.asyncProperty(
        key,
        fc.constantFrom("PUT", "GET", "DELETE", "POST"),
        fileBody,
        fc.constantFrom("Bearer upload-token", "Bearer wrong", ""),
        async (k, method, body, auth) => {
          const headers: Record<string, string> = auth ? { authorization: auth } : {};
          const init: RequestInit = { method, headers };
          if (method === "PUT" || method === "POST") {
            const bytes = new TextEncoder().encode(body);
            init.body = bytes;
            headers["content-length"] = String(bytes.byteLength);
          }
          let url: string;
          try {
            url = new URL(`https://connector.test/files/${k}`).href;
          } catch {
            return; // not a URL a client could send
          }
          const o = await send(new Request(url, init));
          if (o.status === 200 && method === "GET") return; // a listing or a stored file
          if (o.status === 200 || o.status === 201) JSON.parse(o.text);
          else checkAnswer("/files", o);
          expect(o.ms).toBeLessThan(BOUND_MS);
        },
      ),
      { seed: SEED + 3, numRuns: 200 },
    );
  });
});
