/**
 * The filter engine (docs/reference.md, "Filters"), parsed once per request
 * into a FilterPlan: a predicate over a row of typed cells, and its top-level
 * parts (column, operator, negation, test) for the readers that look at one
 * part at a time (row tests that stop at the first failing part, group
 * skipping from stats, dictionary evaluation in compiled tables).
 *
 *   filter = { cond-key: value, …, "0": group, …, "LOGIC"?: "AND" | "OR" }
 *   group  = the same shape, nested to any depth; default logic AND
 *
 * Semantics, chosen to match the portal's SQL:
 * - a condition or group that arrived empty (PHP drops empty lists) matches
 *   everything; so does an OR group with such a member;
 * - a list value means "any of" (`=` → IN, `%` → contains any);
 * - `!` negates the whole condition, so an empty cell passes `!=F x`
 *   (EXCLUDE keeps rows where the field is empty);
 * - scalar `0` with `=` is PHP `false`, BI Builder's IS_NULL: on text and
 *   date columns it means "is empty"; on numeric columns "= 0 or empty",
 *   because `false` and `0` cannot be told apart on the wire (a list `[0]`,
 *   which is what EQUALS sends, means exactly 0); a scalar `""` means "is empty";
 * - dates compare chronologically: a date-only bound on a datetime column
 *   covers the whole day (`<= 31.01.2024` keeps 31 Jan 23:59:59); a time in a
 *   bound on a date column is ignored (the day is what the column holds);
 * - text compares case-insensitively (`foldText`).
 * Anything that cannot be applied exactly is a 400 naming the key and value:
 * dropping a condition would show wrong numbers on a dashboard.
 */
import { AppError } from "../errors";
import type { Cell, Column, DateFormat, Description, SlashOrder } from "../model";
import { foldText } from "../values/collation";
import { formatDate, formatDateTime, parseDateParts } from "../values/dates";
import { parseNumber } from "../values/numbers";
import { isNumericType, slashOrderOf } from "../values/types";
import type { FieldResolver } from "./fields";
import { likeMatcher } from "./like";
import { type Operator, parseKey } from "./operators";

export type Predicate = (row: readonly Cell[]) => boolean;

/** One top-level part of a filter whose parts are ANDed. */
export interface FilterPart {
  /** Columns the part reads. */
  columns: number[];
  test: Predicate;
  /** The part is one condition: its column, operator and negation (null: a nested group). */
  condition: { column: number; op: Operator; negate: boolean } | null;
}

export interface FilterPlan {
  /** Columns the predicate reads (they must be converted before it runs). */
  columns: number[];
  /** The whole filter; a row passes when it holds. */
  test: Predicate;
  /**
   * The top-level parts when they are ANDed (a row passes when each holds),
   * in request order, those that match everything left out; null when the
   * top level is an OR.
   */
  parts: FilterPart[] | null;
}

export interface FilterContext {
  description: Description;
  fields: FieldResolver;
  /** The portal's date format, from the source's date_format setting. */
  dateFormat: DateFormat;
}

/** null = matches every row. */
type Test = Predicate | null;

/** A filter value as an inclusive range of comparable keys (a point for most types). */
interface Bound {
  lo: number | string;
  hi: number | string;
}

interface Values {
  list: boolean;
  items: string[];
}

const isIndex = (k: string) => /^\d+$/.test(k);
// Far beyond any dashboard; keeps a hostile JSON body from exhausting the stack.
const MAX_DEPTH = 64;
// Work per row is bounded by what the filter holds. IN lists are hash sets,
// so they may be long (the portal sends 1,000-value lists); values that are
// tried one by one on every row (contains, LIKE, comparisons, date ranges)
// are capped lower: 100,000 needles × every row would stall the request.
export const MAX_FILTER_VALUES = 10_000;
export const MAX_SCANNED_VALUES = 1_000;

/** A value as quoted in a message: a hostile 1 MB value must not come back whole. */
function shown(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

function invalid(path: string, detail: string): Error {
  const where = path.length > 200 ? `${path.slice(0, 200)}…` : path;
  return new AppError("FILTER_INVALID", `Filter ${where}: ${detail}.`);
}

/** PHP list (`{"0":…}`), JSON array or scalar → strings; null means "dropped by PHP". */
function readValues(raw: unknown, path: string): Values | null {
  const one = (v: unknown): string | null => {
    if (v === null || v === undefined) return null;
    if (typeof v === "boolean") return v ? "1" : "0";
    if (typeof v === "string" || typeof v === "number") return String(v);
    throw invalid(path, `a value must be text or a number, got ${shown(JSON.stringify(v))}`);
  };
  if (raw !== null && typeof raw === "object") {
    const items = (Array.isArray(raw) ? raw : Object.values(raw)).map(one).filter((v): v is string => v !== null);
    return items.length === 0 ? null : { list: true, items };
  }
  const v = one(raw);
  return v === null ? null : { list: false, items: [v] };
}

/** What the compiler reports of the node it compiled last, for the top level's parts. */
interface Compiled {
  test: Test;
  condition: FilterPart["condition"];
}

class Compiler {
  readonly used = new Set<number>();
  /** Columns read by the top-level part being compiled. */
  private partUsed = new Set<number>();
  /** The top level's parts, filled by `top`. */
  parts: FilterPart[] | null = null;
  private values = 0;
  private scanned = 0;
  private readonly slashOrder: SlashOrder;

  constructor(private readonly ctx: FilterContext) {
    // Dots are always day first; slashes follow the source's date_format setting.
    this.slashOrder = slashOrderOf(ctx.dateFormat, "mdy");
  }

  /** A group; at depth 0 its parts are kept in `parts` when they are ANDed. */
  node(node: unknown, path: string, depth = 0): Test {
    if (depth > MAX_DEPTH) throw invalid(path, `groups nest deeper than ${MAX_DEPTH} levels`);
    if (node === null || typeof node !== "object") {
      throw invalid(path, `expected a group of conditions, got ${shown(JSON.stringify(node))}`);
    }
    const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node);
    let or = false;
    const parts: Predicate[] = [];
    const top: FilterPart[] = [];
    let matchAll = false;
    for (const [key, value] of entries) {
      if (key.toUpperCase() === "LOGIC") {
        const logic = String(value).toUpperCase();
        if (logic !== "AND" && logic !== "OR") throw invalid(`${path}[LOGIC]`, `LOGIC must be AND or OR, got "${String(value)}"`);
        or = logic === "OR";
        continue;
      }
      const childPath = `${path}[${key}]`;
      if (depth === 0) this.partUsed = new Set();
      const { test, condition } = isIndex(key)
        ? { test: this.node(value, childPath, depth + 1), condition: null }
        : this.condition(key, value, childPath);
      if (test === null) matchAll = true;
      else {
        parts.push(test);
        if (depth === 0) top.push({ columns: [...this.partUsed].sort((a, b) => a - b), test, condition });
      }
    }
    if (depth === 0) this.parts = or ? null : top;
    if (or) {
      if (matchAll || parts.length === 0) return null;
      return parts.length === 1 ? parts[0] : (row) => parts.some((p) => p(row));
    }
    if (parts.length === 0) return null;
    return parts.length === 1 ? parts[0] : (row) => parts.every((p) => p(row));
  }

  condition(key: string, raw: unknown, path: string): Compiled {
    const { negate, op, field } = parseKey(key, path);
    const index = this.ctx.fields.resolve(field, `filter key ${path}`);
    const values = readValues(raw, path);
    if (values === null) return { test: null, condition: null }; // an empty list PHP dropped: no restriction
    this.values += values.items.length;
    if (this.values > MAX_FILTER_VALUES) {
      throw invalid(path, `the filter holds more than ${MAX_FILTER_VALUES} values in all; narrow the dashboard filter`);
    }
    this.used.add(index);
    this.partUsed.add(index);
    const column = this.ctx.description.columns[index];
    const test = this.operator(op, index, column, values, path);
    return { test: negate ? (row) => !test(row) : test, condition: { column: index, op, negate } };
  }

  /** Counts values that every row is tested against one by one. */
  private scan(count: number, path: string): void {
    this.scanned += count;
    if (this.scanned > MAX_SCANNED_VALUES) {
      throw invalid(
        path,
        `the filter compares each row with more than ${MAX_SCANNED_VALUES} values (contains, LIKE, comparisons and date ranges count; IN lists do not); narrow the dashboard filter`,
      );
    }
  }

  private operator(op: Operator, i: number, column: Column, values: Values, path: string): Predicate {
    const { items } = values;
    if (op !== "eq" && op !== "in") this.scan(items.length, path);
    switch (op) {
      case "eq":
      case "in":
        return this.equals(i, column, values, path);
      case "contains": {
        const needles = items.map(foldText);
        return (row) => {
          const c = row[i];
          if (c === null) return false;
          const text = foldText(String(c));
          return needles.some((n) => text.includes(n));
        };
      }
      case "like": {
        const patterns = items.map((v) => likeMatcher(foldText(v)));
        return (row) => {
          const c = row[i];
          if (c === null) return false;
          const text = foldText(String(c));
          return patterns.some((p) => p(text));
        };
      }
      case "between": {
        if (items.length !== 2)
          throw invalid(
            path,
            `>< (between) needs exactly two values, got ${items.length} (${items.slice(0, 3).map(shown).join(", ")}${items.length > 3 ? ", …" : ""})`,
          );
        const lo = this.bound(column, items[0], path).lo;
        const hi = this.bound(column, items[1], path).hi;
        const key = this.keyOf(column);
        return (row) => {
          const c = row[i];
          if (c === null) return false;
          const k = key(c);
          return k >= lo && k <= hi;
        };
      }
      case "gt":
      case "ge":
      case "lt":
      case "le": {
        const bounds = items.map((v) => this.bound(column, v, path));
        const key = this.keyOf(column);
        const cmp =
          op === "gt"
            ? (k: number | string, b: Bound) => k > b.hi
            : op === "ge"
              ? (k: number | string, b: Bound) => k >= b.lo
              : op === "lt"
                ? (k: number | string, b: Bound) => k < b.lo
                : (k: number | string, b: Bound) => k <= b.hi;
        return (row) => {
          const c = row[i];
          if (c === null) return false;
          const k = key(c);
          return bounds.some((b) => cmp(k, b));
        };
      }
    }
  }

  private equals(i: number, column: Column, values: Values, path: string): Predicate {
    const { items, list } = values;
    // Scalar false/0 is IS_NULL; scalar "" is "is empty" too.
    if (!list && (items[0] === "" || items[0] === "0")) {
      if (items[0] === "0" && isNumericType(column.type)) return (row) => row[i] === null || row[i] === 0;
      return (row) => row[i] === null;
    }
    const matchEmpty = items.includes("");
    const bounds = items.filter((v) => v !== "").map((v) => this.bound(column, v, path));
    const key = this.keyOf(column);
    if (bounds.every((b) => b.lo === b.hi)) {
      const set = new Set(bounds.map((b) => b.lo));
      return (row) => {
        const c = row[i];
        return c === null ? matchEmpty : set.has(key(c));
      };
    }
    this.scan(bounds.length, path);
    return (row) => {
      const c = row[i];
      if (c === null) return matchEmpty;
      const k = key(c);
      return bounds.some((b) => k >= b.lo && k <= b.hi);
    };
  }

  /** How a cell of this column is compared. */
  private keyOf(column: Column): (c: NonNullable<Cell>) => number | string {
    return column.type === "string" ? (c) => foldText(c as string) : (c) => c;
  }

  /** A filter value as a range in the column's comparable domain. */
  private bound(column: Column, value: string, path: string): Bound {
    const v = value.trim();
    if (isNumericType(column.type)) {
      const n = parseNumber(v, true);
      if (n === null) throw invalid(path, `${shown(value)} is not a number, but ${column.code} is a numeric (${column.type}) field`);
      return { lo: n, hi: n };
    }
    if (column.type === "date" || column.type === "datetime") {
      const p = parseDateParts(v, this.slashOrder);
      if (p === null) {
        throw invalid(
          path,
          `${shown(value)} is not a date in a format the portal uses (${this.ctx.dateFormat}, YYYY-MM-DD, with or without time), but ${column.code} is a ${column.type} field. Check the source's date_format setting`,
        );
      }
      if (column.type === "date") {
        const d = formatDate(p);
        return { lo: d, hi: d };
      }
      if (p.hasTime) {
        const t = formatDateTime(p);
        return { lo: t, hi: t };
      }
      const d = formatDate(p);
      return { lo: `${d} 00:00:00`, hi: `${d} 23:59:59` };
    }
    const f = foldText(v);
    return { lo: f, hi: f };
  }
}

/** The request's filter, parsed once; null when it matches every row. */
export function planFilter(filter: Record<string, unknown> | undefined, ctx: FilterContext): FilterPlan | null {
  if (filter === undefined) return null;
  const compiler = new Compiler(ctx);
  const test = compiler.node(filter, "filter");
  if (test === null) return null;
  return { columns: [...compiler.used].sort((a, b) => a - b), test, parts: compiler.parts };
}
