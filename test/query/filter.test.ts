// The filter engine, table-driven: operator × column type × date locale,
// every request a PHP http_build_query body as the portal sends it.
import { beforeAll, describe, expect, it } from "vitest";
import { call, errorOf, formRequest, phpBodies, post, postJson, put, TOKEN, table } from "../helpers";

// ID int | AMOUNT double | NAME string | DAY date | TS datetime | QTY int
const ROWS = [
  "ID,AMOUNT,NAME,DAY,TS,QTY",
  "1,10.5,Ёжик в тумане,2024-01-01,2024-01-01 00:00:00,0",
  "2,20,ПРИВЕТ мир,2024-01-31,2024-01-31 23:59:59,5",
  "3,-3.25,hello world,2024-02-01,2024-02-01 00:00:00,",
  "4,,Hello_World,2023-12-31,2023-12-31 12:00:00,7",
  "5,0,,2024-02-29,2024-02-29 00:00:01,0",
  "6,1000,100% cotton,,,3",
  "7,99.99,ежик,9999-12-31,9999-12-31 23:59:59,",
];

beforeAll(async () => {
  await put("f.csv", ROWS.join("\n") + "\n");
  await put("p.csv", "ID,NAME\n1,a\n2,b\n");
});

type Case = [string, Record<string, unknown>, number[], string?];

async function ids(cases: Case[]): Promise<number[][]> {
  const bodies = await phpBodies(
    cases.map(([, filter, , dateFormat]) => ({
      connection: { token: TOKEN, ...(dateFormat ? { date_format: dateFormat } : {}) },
      table: "f",
      select: ["ID"],
      filter,
      limit: 0,
    })),
  );
  return Promise.all(bodies.map(async (b) => (await table(await call(formRequest("/data", b)))).slice(1).map((r) => r[0] as number)));
}

const CASES: Case[] = [
  // equality, IN, IS_NULL
  ["= list (EQUALS) on int", { "=ID": ["2", "5"] }, [2, 5]],
  ["= scalar on string, case- and ё-insensitive", { "=NAME": "ежик в тумане" }, [1]],
  ["= list on string", { "=NAME": ["привет МИР", "HELLO WORLD"] }, [2, 3]],
  ["= scalar 0 on string: is empty", { "=NAME": 0 }, [5]],
  ["= scalar false on date: is empty", { "=DAY": false }, [6]],
  ["= scalar 0 on int: zero or empty", { "=QTY": 0 }, [1, 3, 5, 7]],
  ["= list [0] on int: exactly zero", { "=QTY": ["0"] }, [1, 5]],
  ["= scalar empty string: is empty", { "=AMOUNT": "" }, [4]],
  ["!= scalar 0: is not empty", { "!=NAME": 0 }, [1, 2, 3, 4, 6, 7]],
  ["no operator means equality", { ID: "3" }, [3]],
  ["@ IN", { "@ID": ["1", "7"] }, [1, 7]],
  ["!@ NOT IN", { "!@ID": ["1", "2", "3", "4", "5"] }, [6, 7]],
  ["! NOT equal keeps empty cells", { "!AMOUNT": "20" }, [1, 3, 4, 5, 6, 7]],
  ["!= list NOT IN on string", { "!=NAME": ["ежик", "hello world"] }, [1, 2, 4, 5, 6]],
  ["= on double", { "=AMOUNT": ["99.99"] }, [7]],
  ["= with decimal comma", { "=AMOUNT": ["10,5"] }, [1]],
  // contains / like
  ["% contains any, case-insensitive", { "%NAME": ["WORLD", "ёж"] }, [1, 3, 4, 7]],
  ["!% does not contain", { "!%NAME": ["world"] }, [1, 2, 5, 6, 7]],
  ["% with a literal %", { "%NAME": ["100%"] }, [6]],
  ["% on a number column reads its text", { "%AMOUNT": ["99"] }, [7]],
  ["=% LIKE with wildcards", { "=%NAME": "hello%" }, [3, 4]],
  ["%= LIKE, _ is one character", { "%=NAME": "hello_world" }, [3, 4]],
  ["=% LIKE anchored", { "=%NAME": "world%" }, []],
  // ranges
  ["> number", { ">AMOUNT": ["20"] }, [6, 7]],
  [">= number", { ">=AMOUNT": ["20"] }, [2, 6, 7]],
  ["< number", { "<AMOUNT": ["0"] }, [3]],
  ["<= number, scalar", { "<=AMOUNT": "0" }, [3, 5]],
  ["!> number keeps empty", { "!>AMOUNT": ["20"] }, [1, 2, 3, 4, 5]],
  [">< between inclusive", { "><AMOUNT": ["0", "20"] }, [1, 2, 5]],
  ["!>< not between", { "!><AMOUNT": ["0", "20"] }, [3, 4, 6, 7]],
  [">< between reversed bounds matches nothing", { "><AMOUNT": ["20", "0"] }, []],
  ["> on string compares folded text", { ">NAME": ["hello_world"] }, [1, 2, 7]],
  // dates: locales
  ["date range, ru format", { ">=DAY": "01.01.2024", "<=DAY": "31.01.2024" }, [1, 2]],
  ["date range, ISO", { ">=DAY": "2024-01-01", "<=DAY": "2024-01-31" }, [1, 2]],
  ["date range, en MM/DD/YYYY (default for slashes)", { ">=DAY": "01/01/2024", "<=DAY": "01/31/2024" }, [1, 2]],
  ["date range, fr DD/MM/YYYY by setting", { ">=DAY": "01/01/2024", "<=DAY": "31/01/2024" }, [1, 2], "DD/MM/YYYY"],
  ["date range with times on a date column (newer portals)", { ">=DAY": "01.01.2024 00:00:00", "<=DAY": "31.01.2024 23:59:59" }, [1, 2]],
  ["datetime: date-only end covers the whole day", { "<=TS": "31.01.2024" }, [1, 2, 4]],
  ["datetime: date-only start keeps midnight", { ">=TS": "01.02.2024" }, [3, 5, 7]],
  ["datetime: > date-only is after the whole day", { ">TS": "31.01.2024" }, [3, 5, 7]],
  ["datetime: < date-only is before the day", { "<TS": "01.01.2024" }, [4]],
  ["datetime: = date-only is that day", { "=TS": ["31.01.2024"] }, [2]],
  ["datetime: en 12-hour, 11:59:59 pm", { "<=TS": "01/31/2024 11:59:59 pm", ">=TS": "01/31/2024 12:00:00 am" }, [2]],
  ["datetime: en 12:00:00 am is midnight", { "=TS": ["02/01/2024 12:00:00 am"] }, [3]],
  ["datetime: fr with time", { ">=TS": "29/02/2024 00:00:01" }, [5, 7], "DD/MM/YYYY"],
  ["datetime: year 9999", { ">=TS": "31.12.9999 23:59:59" }, [7]],
  ["date: between in ru format", { "><DAY": ["31.12.2023", "01.02.2024"] }, [1, 2, 3, 4]],
  ["date: IN list", { "=DAY": ["29.02.2024", "2023-12-31"] }, [4, 5]],
  // structure
  ["top level is AND", { ">AMOUNT": ["0"], "<AMOUNT": ["50"] }, [1, 2]],
  ["OR group", { 0: { LOGIC: "OR", 0: { "=ID": ["1"] }, 1: { "=ID": ["2"] } } }, [1, 2]],
  ["OR group AND a top-level condition", { "!=ID": ["1"], 0: { LOGIC: "OR", 0: { "=ID": ["1"] }, 1: { "=ID": ["2"] } } }, [2]],
  [
    "nested 4 levels deep with mixed logic",
    {
      0: {
        LOGIC: "OR",
        0: { LOGIC: "AND", 0: { ">=AMOUNT": ["10"] }, 1: { 0: { LOGIC: "OR", 0: { "%NAME": ["мир"] }, 1: { "=ID": ["7"] } } } },
        1: { "=ID": ["3"] },
      },
    },
    [2, 3, 7],
  ],
  ["top-level LOGIC OR", { LOGIC: "OR", "=ID": ["1"], ">AMOUNT": ["500"] }, [1, 6]],
  ["an empty list (dropped by PHP) matches everything", { "=ID": [], ">=ID": ["6"] }, [6, 7]],
  // PHP drops the emptied member whole: what arrives is an OR of the rest.
  ["an OR group whose member PHP dropped", { 0: { LOGIC: "OR", 0: { "=ID": [] }, 1: { "=ID": ["2"] } } }, [2]],
  ["an empty group matches everything", { 0: { LOGIC: "OR" } }, [1, 2, 3, 4, 5, 6, 7]],
  ["fields by header text, any case, and a field that is not selected", { "=name": ["ежик"], ">=id": ["1"] }, [7]],
];

describe("filter operators", () => {
  it("answers every case exactly", async () => {
    const got = await ids(CASES);
    const failures = CASES.map(([name, filter, want], i) => ({ name, filter, want, got: got[i] })).filter(
      (c) => JSON.stringify(c.want) !== JSON.stringify(c.got),
    );
    expect(failures).toEqual([]);
  });

  it("lets an explicitly empty member of an OR group (JSON body) match everything", async () => {
    const res = await postJson("/data", {
      connection: { token: TOKEN },
      table: "f",
      select: ["ID"],
      filter: { 0: { LOGIC: "OR", 0: { "=ID": [] }, 1: { "=ID": ["2"] } } },
    });
    expect((await table(res)).length).toBe(8);
  });

  it("takes a 1,000-value IN list", async () => {
    const values = Array.from({ length: 1000 }, (_, i) => String(i + 3));
    expect(await ids([["IN 1000", { "=ID": values }, []]])).toEqual([[3, 4, 5, 6, 7]]);
  });

  it("uses mapFields to resolve filter fields", async () => {
    const [body] = await phpBodies([
      { connection: { token: TOKEN }, table: "f", select: ["X_ID"], filter: { "=X_ID": ["4"] }, mapFields: { ID: "X_ID" } },
    ]);
    expect(await table(await call(formRequest("/data", body)))).toEqual([["X_ID"], [4]]); // the header echoes the select names
  });
});

describe("filter errors", () => {
  it.each([
    [{ "=NOPE": ["1"] }, "FIELD_UNKNOWN", '"NOPE"'],
    [{ "=>ID": ["1"] }, "FILTER_INVALID", '"=>ID"'],
    [{ "~ID": ["1"] }, "FILTER_INVALID", '"~ID"'],
    [{ "!!ID": ["1"] }, "FILTER_INVALID", "unknown operator"],
    [{ ">=": ["1"] }, "FILTER_INVALID", "no field"],
    [{ ">AMOUNT": ["abc"] }, "FILTER_INVALID", '"abc" is not a number'],
    [{ "=ID": ["1x"] }, "FILTER_INVALID", "filter[=ID]"],
    [{ "><AMOUNT": ["1"] }, "FILTER_INVALID", "exactly two values"],
    [{ "><AMOUNT": ["1", "2", "3"] }, "FILTER_INVALID", "exactly two values"],
    [{ ">=DAY": "32.01.2024" }, "FILTER_INVALID", '"32.01.2024" is not a date'],
    [{ ">=TS": "31/01/2024" }, "FILTER_INVALID", "date_format"],
    [{ 0: { LOGIC: "XOR", "=ID": ["1"] } }, "FILTER_INVALID", "filter[0][LOGIC]"],
    [{ 0: { 1: { ">=TS": "yesterday" } } }, "FILTER_INVALID", "filter[0][1][>=TS]"],
  ])("%j → %s", async (filter, code, detail) => {
    const [body] = await phpBodies([{ connection: { token: TOKEN }, table: "f", filter }]);
    const err = await errorOf(await call(formRequest("/data", body)));
    expect(err).toMatchObject({ status: 400, code });
    expect(err.message).toContain(detail);
  });

  it("rejects absurdly deep nesting in a JSON body with a 400", async () => {
    const filter = `${'{"0":'.repeat(5000)}{"=ID":["1"]}${"}".repeat(5000)}`;
    const body = `{"connection":{"token":"${TOKEN}"},"table":"f","filter":${filter}}`;
    const err = await errorOf(
      await call(new Request("https://c.test/data", { method: "POST", headers: { "content-type": "application/json" }, body })),
    );
    expect(err).toMatchObject({ status: 400, code: "FILTER_INVALID" });
    expect(err.message).toContain("deeper than 64 levels");
  });

  it("rejects an unknown date_format setting", async () => {
    const [body] = await phpBodies([
      { connection: { token: TOKEN, date_format: "YYYY/DD/MM" }, table: "f", filter: { ">=DAY": "01.01.2024" } },
    ]);
    expect(await errorOf(await call(formRequest("/data", body)))).toMatchObject({ status: 400, code: "REQUEST_INVALID" });
  });
});

describe("filter keys that are no plain field names (__proto__, constructor)", () => {
  it.each(["__proto__", "constructor"])("JSON filter key %s is refused, not dropped", async (key) => {
    const err = await errorOf(await postJson("/data", { connection: { token: TOKEN }, table: "p", filter: { [key]: "1" } }));
    expect(err).toMatchObject({ status: 400, code: "FIELD_UNKNOWN" });
    expect(err.message).toContain(`Unknown field "${key}" in filter key filter[${key}]`);
  });

  it("JSON filter key __proto__ parsed as an own property is refused, also inside a group", async () => {
    // JSON.parse makes "__proto__" an own key; it must reach the filter compiler.
    const body = `{"connection":{"token":"${TOKEN}"},"table":"p","filter":{"0":{"LOGIC":"OR","__proto__":{"=ID":"1"}}}}`;
    const res = await call(new Request("https://c.test/data", { method: "POST", headers: { "content-type": "application/json" }, body }));
    expect(await errorOf(res)).toMatchObject({ status: 400, code: "FIELD_UNKNOWN" });
    const top = `{"connection":{"token":"${TOKEN}"},"table":"p","filter":{"__proto__":{"=ID":"1"}}}`;
    const res2 = await call(
      new Request("https://c.test/data", { method: "POST", headers: { "content-type": "application/json" }, body: top }),
    );
    expect(await errorOf(res2)).toMatchObject({ status: 400, code: "FIELD_UNKNOWN" });
  });

  it.each([
    ["filter%5B__proto__%5D=1", "filter[__proto__]"],
    ["filter%5B0%5D%5B__proto__%5D%5B%3DID%5D=1", "filter[0][__proto__][=ID]"],
    ["filter%5B%5F%5Fproto%5F%5F%5D=1", "filter[__proto__]"],
    ["filter[__proto__][=ID]=1", "filter[__proto__][=ID]"],
  ])("form filter key %s is refused, not dropped", async (raw, shown) => {
    const body = `connection%5Btoken%5D=${TOKEN}&table=p&${raw}`;
    const err = await errorOf(await call(formRequest("/data", body)));
    expect(err).toMatchObject({ status: 400, code: "FILTER_INVALID" });
    expect(err.message).toContain(`"${shown}"`);
  });

  it("form key __proto__ outside the filter is refused as a malformed body", async () => {
    const err = await errorOf(await call(formRequest("/data", `connection%5Btoken%5D=${TOKEN}&table=p&select%5B__proto__%5D=ID`)));
    expect(err).toMatchObject({ status: 400, code: "BODY_INVALID" });
  });

  it("form filter key constructor reaches the compiler and is refused", async () => {
    const err = await errorOf(await post("/data", { table: "p", filter: { constructor: "1" } }));
    expect(err).toMatchObject({ status: 400, code: "FIELD_UNKNOWN" });
  });

  it("a filter on a real field still works in both encodings", async () => {
    expect(await table(await post("/data", { table: "p", filter: { "=ID": "2" } }))).toEqual([
      ["ID", "NAME"],
      [2, "b"],
    ]);
    expect(await table(await postJson("/data", { connection: { token: TOKEN }, table: "p", filter: { "=ID": "2" } }))).toEqual([
      ["ID", "NAME"],
      [2, "b"],
    ]);
  });
});
