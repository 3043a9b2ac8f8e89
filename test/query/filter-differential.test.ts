// Differential test: 1,000 random filters (random nesting, operators,
// negation, date locales) over a generated file, each answered by the Worker
// from a PHP-encoded body and compared with a straightforward reference
// evaluator written here. The reference never parses the filter strings: it
// keeps the typed values the generator rendered into them.
import { beforeAll, describe, expect, it } from "vitest";
import { callDirect, formRequest, phpBodies, put, TOKEN, table } from "../helpers";

let seed = 7;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x80000000;
};
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

const DAY = 86400;
const BASE = Date.UTC(2023, 10, 1) / 1000; // seconds
const NAMES = ["Ёлка", "ёлка", "ЕЛКА", "Привет", "привет мир", "Hello", "hello world", "Zebra", "zz top", "a_b", "100%"];

interface Row {
  ID: number;
  NUM: number | null;
  QTY: number | null;
  NAME: string | null;
  D: number | null; // day start, seconds
  T: number | null; // seconds
}

const rows: Row[] = [];
for (let id = 1; id <= 400; id++) {
  rows.push({
    ID: id,
    NUM: rnd() < 0.1 ? null : int(-500, 500) / 4,
    QTY: rnd() < 0.15 ? null : rnd() < 0.2 ? 0 : int(1, 9),
    NAME: rnd() < 0.1 ? null : pick(NAMES),
    D: rnd() < 0.1 ? null : BASE + int(0, 120) * DAY,
    T: rnd() < 0.1 ? null : BASE + int(0, 120) * DAY + pick([0, 1, 43200, 86399, int(0, 86399)]),
  });
}

const p2 = (n: number) => String(n).padStart(2, "0");
const ymd = (s: number) => new Date(s * 1000).toISOString().slice(0, 10);
const hms = (s: number) => new Date(s * 1000).toISOString().slice(11, 19);
const csv = ["ID,NUM,QTY,NAME,D,T"]
  .concat(
    rows.map((r) =>
      [
        r.ID,
        r.NUM ?? "",
        r.QTY ?? "",
        r.NAME ?? "",
        r.D === null ? "" : ymd(r.D).split("-").reverse().join("."),
        r.T === null ? "" : `${ymd(r.T)} ${hms(r.T)}`,
      ].join(","),
    ),
  )
  .join("\n");

// ---- date rendering in the portal's locales --------------------------------

type Locale = "ru" | "en" | "fr" | "iso";
const DATE_FORMAT: Record<Locale, string | undefined> = { ru: "DD.MM.YYYY", en: "MM/DD/YYYY", fr: "DD/MM/YYYY", iso: undefined };

function renderDate(s: number, withTime: boolean, locale: Locale): string {
  const d = new Date(s * 1000);
  const [y, m, dd] = [d.getUTCFullYear(), p2(d.getUTCMonth() + 1), p2(d.getUTCDate())];
  const date =
    locale === "ru" ? `${dd}.${m}.${y}` : locale === "en" ? `${m}/${dd}/${y}` : locale === "fr" ? `${dd}/${m}/${y}` : `${y}-${m}-${dd}`;
  if (!withTime) return date;
  const [h, mi, se] = [d.getUTCHours(), p2(d.getUTCMinutes()), p2(d.getUTCSeconds())];
  if (locale === "en") return `${date} ${p2(h % 12 === 0 ? 12 : h % 12)}:${mi}:${se} ${h < 12 ? "am" : "pm"}`;
  return `${date} ${p2(h)}:${mi}:${se}`;
}

// ---- random filters and their reference meaning ----------------------------

type Field = Exclude<keyof Row, "ID"> | "ID";
type Ref = (r: Row) => boolean;
interface Gen {
  wire: Record<string, unknown>;
  ref: Ref;
}

const fold = (s: string) => s.toLowerCase().replaceAll("ё", "е");

/** A value for field f, as wire text plus its reference range [lo, hi]. */
function value(f: Field, locale: Locale): { text: string; lo: number | string; hi: number | string } {
  if (f === "NAME") {
    const s = pick([...NAMES, "hello", "zzz"]);
    return { text: rnd() < 0.3 ? s.toUpperCase() : s, lo: fold(s), hi: fold(s) };
  }
  if (f === "D" || f === "T") {
    const day = BASE + int(-2, 122) * DAY;
    const withTime = rnd() < 0.5;
    const s = withTime ? day + pick([0, 1, 43200, 86399, int(0, 86399)]) : day;
    const text = renderDate(s, withTime, locale);
    if (f === "D") return { text, lo: day, hi: day }; // a time on a date column is ignored
    return withTime ? { text, lo: s, hi: s } : { text, lo: day, hi: day + DAY - 1 };
  }
  const n = f === "NUM" ? int(-500, 500) / 4 : f === "QTY" ? int(0, 9) : int(0, 401);
  return { text: String(n), lo: n, hi: n };
}

const cell = (r: Row, f: Field): number | string | null => {
  const v = r[f];
  return v === null ? null : f === "NAME" ? fold(v as string) : (v as number);
};

function condition(locale: Locale): Gen {
  const f = pick<Field>(["ID", "NUM", "QTY", "NAME", "D", "T"]);
  const negate = rnd() < 0.25;
  const ops = ["=", "=", "@", ">", ">=", "<", "<=", "><", "isnull"];
  if (f === "NAME") ops.push("%", "%", "=%");
  const op = pick(ops);
  let key = op === "isnull" ? `=${f}` : `${op}${f}`;
  let wireValue: unknown;
  let ref: Ref;
  if (op === "isnull") {
    wireValue = pick([false, 0]);
    const numeric = f === "ID" || f === "NUM" || f === "QTY";
    ref = (r) => r[f] === null || (numeric && r[f] === 0);
  } else if (op === "=" || op === "@") {
    const vals = Array.from({ length: int(1, 4) }, () => value(f, locale));
    wireValue = vals.map((v) => v.text);
    ref = (r) => {
      const c = cell(r, f);
      return c !== null && vals.some((v) => c >= v.lo && c <= v.hi);
    };
  } else if (op === "%") {
    const subs = Array.from({ length: int(1, 2) }, () => pick(["ел", "ПРИ", "world", "o", "_", "%", "zz"]));
    wireValue = subs;
    ref = (r) => r.NAME !== null && subs.some((s) => fold(r.NAME!).includes(fold(s)));
  } else if (op === "=%") {
    const [pat, test] = pick<[string, (s: string) => boolean]>([
      ["hello%", (s) => s.startsWith("hello")],
      ["%мир", (s) => s.endsWith("мир")],
      ["%l%", (s) => s.includes("l")],
      ["ЁЛК_", (s) => s.length === 4 && s.startsWith("елк")],
    ]);
    wireValue = pat;
    ref = (r) => r.NAME !== null && test(fold(r.NAME));
  } else if (op === "><") {
    const a = value(f, locale);
    const b = value(f, locale);
    wireValue = [a.text, b.text];
    ref = (r) => {
      const c = cell(r, f);
      return c !== null && c >= a.lo && c <= b.hi;
    };
  } else {
    const v = value(f, locale);
    wireValue = rnd() < 0.5 ? [v.text] : v.text;
    ref = (r) => {
      const c = cell(r, f);
      if (c === null) return false;
      return op === ">" ? c > v.hi : op === ">=" ? c >= v.lo : op === "<" ? c < v.lo : c <= v.hi;
    };
  }
  if (negate) key = `!${key}`;
  return { wire: { [key]: wireValue }, ref: negate ? (r) => !ref(r) : ref };
}

function group(depth: number, locale: Locale): Gen {
  const or = rnd() < 0.5;
  const n = int(1, 3);
  const members = Array.from({ length: n }, () => (depth > 0 && rnd() < 0.4 ? group(depth - 1, locale) : condition(locale)));
  const wire: Record<string, unknown> = { LOGIC: or ? "OR" : "AND" };
  members.forEach((m, i) => (wire[i] = m.wire));
  return { wire, ref: or ? (r) => members.some((m) => m.ref(r)) : (r) => members.every((m) => m.ref(r)) };
}

function filter(): { wire: Record<string, unknown>; ref: Ref; locale: Locale } {
  const locale = pick<Locale>(["ru", "en", "fr", "iso"]);
  const wire: Record<string, unknown> = {};
  const refs: Ref[] = [];
  // Top level: plain conditions (AND) and numbered groups, as the portal builds them.
  const n = int(1, 3);
  for (let i = 0; i < n; i++) {
    const g = rnd() < 0.5 ? group(2, locale) : condition(locale);
    const isGroup = "LOGIC" in g.wire;
    const keyClash = !isGroup && Object.keys(g.wire).some((k) => k in wire);
    if (isGroup || keyClash) wire[Object.keys(wire).filter((k) => /^\d+$/.test(k)).length] = g.wire;
    else Object.assign(wire, g.wire);
    refs.push(g.ref);
  }
  return { wire, ref: (r) => refs.every((f) => f(r)), locale };
}

beforeAll(async () => {
  await put("diff.csv", csv);
});

describe("filter engine vs reference evaluator", () => {
  it("agrees on 1,000 random filters", async () => {
    const filters = Array.from({ length: 1000 }, filter);
    const bodies = await phpBodies(
      filters.map((f) => ({
        connection: { token: TOKEN, ...(DATE_FORMAT[f.locale] ? { date_format: DATE_FORMAT[f.locale] } : {}) },
        table: "diff",
        select: ["ID"],
        filter: f.wire,
        limit: 0,
      })),
    );
    const mismatches: unknown[] = [];
    let nonTrivial = 0;
    for (let i = 0; i < filters.length; i += 20) {
      const answers = await Promise.all(
        bodies.slice(i, i + 20).map(async (b) => (await table(await callDirect(formRequest("/data", b)))).slice(1).map((r) => r[0])),
      );
      answers.forEach((got, j) => {
        const f = filters[i + j];
        const want = rows.filter(f.ref).map((r) => r.ID);
        if (want.length > 0 && want.length < rows.length) nonTrivial++;
        if (JSON.stringify(got) !== JSON.stringify(want))
          mismatches.push({ filter: f.wire, locale: f.locale, want: want.length, got: got.length });
      });
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
    expect(mismatches.length).toBe(0);
    // The random filters must exercise real selections, not only all-or-nothing.
    expect(nonTrivial).toBeGreaterThan(500);
  });
});
