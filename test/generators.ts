// Random tables and random /data requests for the differential tests of the
// answer path (test/query/answer-bytes.test.ts, test/compiled/differential.test.ts): columns of every
// type with cell text of every shape a file holds (canonical and odd numbers,
// dates in each locale, escapes, Cyrillic, emoji, lone surrogates, empties),
// and requests built like filter-differential.test.ts builds them (nested
// LOGIC groups, negation, =, @, ranges, ><, isnull, %, =%; select with
// repeats, mapFields, limit), all from fixed seeds.
import fc from "fast-check";
import type { ColumnType } from "../src/model";

export interface GenColumn {
  name: string;
  type: ColumnType;
}

export interface GenTable {
  columns: GenColumn[];
  rows: string[][];
}

const TYPES: ColumnType[] = ["int", "double", "string", "date", "datetime"];

const numberText = fc.oneof(
  fc.integer({ min: -1e6, max: 1e6 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }).map((n) => String(Math.round(n * 100) / 100)),
  fc.constantFrom(
    "0",
    "-0",
    "007",
    "1e5",
    "1.50",
    "-.5",
    "+3",
    " 42",
    "1 234,56",
    "12,5",
    "123456789012345",
    "1234567890123456",
    "12345678901234567",
    "0.1234567890123456",
    "9007199254740993",
    "1.",
    "x",
    "--1",
    "",
  ),
);
const dateText = fc.oneof(
  fc.tuple(fc.integer({ min: 2023, max: 2025 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 })).chain(([y, m, d]) => {
    const p = (n: number) => String(n).padStart(2, "0");
    return fc.constantFrom(
      `${y}-${p(m)}-${p(d)}`,
      `${p(d)}.${p(m)}.${y}`,
      `${p(m)}/${p(d)}/${y}`,
      `${y}-${p(m)}-${p(d)} ${p(d % 24)}:${p(m * 4)}:${p(d)}`,
      `${p(d)}.${p(m)}.${y} 9:05`,
      `${y}-${p(m)}-${p(d)}T23:59:59Z`,
    );
  }),
  fc.constantFrom("", "31.02.2024", "2024-13-01", "not a date", "2024-03-01 25:00:00", " 2024-03-05 "),
);
const stringText = fc
  .oneof(
    fc.constantFrom(
      "Kazan",
      "Omsk",
      "Ёлка",
      "привет мир",
      "hello world",
      'Cable "USB-C"',
      "a\\b",
      "tab\there",
      "line\nbreak",
      "\u0001\u001f",
      "😀",
      "\ud800",
      "x\udc00y",
      "",
      "100%",
      "a_b",
      "</script>",
      "\u2028",
    ),
    fc.string({ maxLength: 12 }),
    fc.string({ unit: "binary", maxLength: 8 }),
    fc.string({ unit: "grapheme", maxLength: 6 }),
    fc.string({ minLength: 60, maxLength: 200 }), // past the byte writer's native-encoder threshold
    fc.constantFrom("é".repeat(70), `${"q".repeat(70)}"`, `${"ж".repeat(64)}\ud83d\ude00`),
    // No NUL: a CSV holding NUL bytes is refused as a binary file (formats/sniff.ts); other controls stay.
  )
  .map((s) => s.replaceAll("\u0000", "\u0001"));
const cellFor = (t: ColumnType) => (t === "int" || t === "double" ? numberText : t === "string" ? stringText : dateText);

/** Any text in any column (a declared type does not make the file obey it). */
const cell = (t: ColumnType) =>
  fc.oneof({ weight: 6, arbitrary: cellFor(t) }, { weight: 1, arbitrary: fc.oneof(numberText, dateText, stringText) });

export const genTable: fc.Arbitrary<GenTable> = fc.array(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 6 }).chain((types) =>
  fc.record({
    columns: fc.constant(types.map((type, i) => ({ name: `c${i}`, type }))),
    rows: fc.array(fc.tuple(...types.map(cell)), { maxLength: 60 }),
  }),
);

const csvCell = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** The table as CSV text (every cell quoted) and the sidecar that declares its types. */
export function tableFiles(t: GenTable): {
  csv: string;
  sidecar: { headerRow: number; footerRows: number; columns: Record<string, { type: ColumnType }> };
} {
  const lines = [t.columns.map((c) => c.name).join(","), ...t.rows.map((r) => r.map(csvCell).join(","))];
  // The layout is pinned (header on row 1, no footer): random cells must not look like a report's title or totals.
  return {
    csv: `${lines.join("\n")}\n`,
    sidecar: { headerRow: 1, footerRows: 0, columns: Object.fromEntries(t.columns.map((c) => [c.name, { type: c.type }])) },
  };
}

// ---- requests ---------------------------------------------------------------

const code = (c: GenColumn) => c.name.toUpperCase();

function valueFor(c: GenColumn): fc.Arbitrary<string> {
  if (c.type === "date" || c.type === "datetime")
    return fc.oneof(
      dateText.filter((s) => s !== ""),
      fc.constantFrom("01.03.2024", "2024-03-31", "03/15/2024"),
    );
  if (c.type === "string") return fc.oneof(stringText, fc.constantFrom("kazan", "ОМСК", "ёлка"));
  return numberText;
}

function condition(columns: GenColumn[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.constantFrom(...columns).chain((c) => {
    const ops = ["=", "@", ">", ">=", "<", "<=", "><", "isnull", "!="];
    if (c.type === "string") ops.push("%", "=%");
    return fc
      .tuple(
        fc.constantFrom(...ops),
        fc.boolean(),
        fc.array(valueFor(c), { minLength: 1, maxLength: 4 }),
        fc.constantFrom("hello%", "%мир", "%l%", "ЁЛК_", "K%"),
      )
      .map(([op, negate, vals, pattern]) => {
        const bang = negate && op !== "!=" ? "!" : "";
        if (op === "isnull") return { [`${bang}=${code(c)}`]: false };
        if (op === "><") return { [`${bang}><${code(c)}`]: [vals[0], vals[vals.length - 1]] };
        if (op === "=%") return { [`${bang}=%${code(c)}`]: pattern };
        if (op === "=" || op === "@" || op === "%") return { [`${bang}${op}${code(c)}`]: vals };
        return { [`${bang}${op}${code(c)}`]: vals[0] };
      });
  });
}

function groupOf(columns: GenColumn[], depth: number): fc.Arbitrary<Record<string, unknown>> {
  const member =
    depth > 0
      ? fc.oneof({ weight: 3, arbitrary: condition(columns) }, { weight: 1, arbitrary: groupOf(columns, depth - 1) })
      : condition(columns);
  return fc.tuple(fc.constantFrom("AND", "OR"), fc.array(member, { minLength: 1, maxLength: 3 })).map(([logic, members]) => {
    const g: Record<string, unknown> = { LOGIC: logic };
    members.forEach((m, i) => (g[i] = m));
    return g;
  });
}

/** A top-level filter as the portal builds it: plain conditions (AND) and numbered groups. */
export function genFilter(columns: GenColumn[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.array(fc.oneof(condition(columns), groupOf(columns, 2)), { minLength: 1, maxLength: 3 }).map((parts) => {
    const wire: Record<string, unknown> = {};
    let n = 0;
    for (const p of parts) {
      if ("LOGIC" in p || Object.keys(p).some((k) => k in wire)) wire[n++] = p;
      else Object.assign(wire, p);
    }
    return wire;
  });
}

export interface GenRequest {
  select?: string[];
  filter?: Record<string, unknown>;
  limit?: number;
  mapFields?: Record<string, string>;
  dateFormat: "DD.MM.YYYY" | "MM/DD/YYYY" | "DD/MM/YYYY" | "YYYY-MM-DD";
}

/** A /data request on the table: mapFields renames are used in select and filter. */
export function genRequest(columns: GenColumn[]): fc.Arbitrary<GenRequest> {
  return fc
    .record(
      {
        select: fc.array(fc.constantFrom(...columns.map(code)), { maxLength: 8 }),
        filter: genFilter(columns),
        limit: fc.oneof(fc.constant(0), fc.nat({ max: 70 })),
        mapFields: fc.constant({ [code(columns[0])]: "ALIAS" }),
        dateFormat: fc.constantFrom("DD.MM.YYYY", "MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD"),
      },
      { requiredKeys: ["dateFormat"] },
    )
    .map((r) => ({ ...r, select: r.select && r.select.length > 0 && r.mapFields ? [...r.select, "ALIAS"] : r.select }));
}
