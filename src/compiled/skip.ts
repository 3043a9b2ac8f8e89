/**
 * Which row groups a filter may match, from the groups' stats alone. Exact
 * by construction: a group is skipped only when a top-level condition (the
 * filter's parts are ANDed) is false for every value the group holds. The
 * condition is the request's own compiled predicate, tried on the values the
 * stats list; nothing here re-implements filter semantics.
 * - a part on one column whose distinct values (and null, if any) are known:
 *   skipped when it holds for none of them;
 * - `>=`/`>` (or `<=`/`<`) on a number or date column: skipped when it fails
 *   on the group's max (or min) and on null. These operators are monotone in
 *   the value, "any of" a list included.
 */
import type { Cell, Description } from "../model";
import type { FieldResolver } from "../query/fields";
import { compileFilter, type CompiledFilter } from "../query/filter";
import { parseKey } from "../query/operators";
import type { DateFormat } from "../model";
import type { GroupMeta } from "./storage";

interface Part {
  column: number;
  test: CompiledFilter["test"];
  /** "up": true for all values above a passing one; "down": below; null: neither known. */
  monotone: "up" | "down" | null;
}

function partsOf(filter: Record<string, unknown> | undefined, description: Description, fields: FieldResolver, dateFormat: DateFormat): Part[] {
  if (!filter || "LOGIC" in filter) return []; // top-level logic other than the default AND: no skipping
  const parts: Part[] = [];
  for (const [key, value] of Object.entries(filter)) {
    let compiled: CompiledFilter | null;
    try {
      compiled = compileFilter({ [key]: value }, { description, fields, dateFormat });
    } catch {
      continue;
    }
    if (!compiled || compiled.columns.length !== 1) continue;
    const column = compiled.columns[0];
    let monotone: Part["monotone"] = null;
    if (!/^\d+$/.test(key) && description.columns[column].type !== "string") {
      const k = parseKey(key, key);
      if (!k.negate && (k.op === "ge" || k.op === "gt")) monotone = "up";
      if (!k.negate && (k.op === "le" || k.op === "lt")) monotone = "down";
    }
    parts.push({ column, test: compiled.test, monotone });
  }
  return parts;
}

/**
 * The filter as its top-level parts (ANDed), each with the columns it reads,
 * so a row can be rejected by its first failing part before the other
 * columns are decoded. null when the top level is not a plain AND.
 */
export function filterParts(filter: Record<string, unknown> | undefined, description: Description, fields: FieldResolver, dateFormat: DateFormat): CompiledFilter[] | null {
  if (!filter || "LOGIC" in filter) return null;
  const parts: CompiledFilter[] = [];
  for (const [key, value] of Object.entries(filter)) {
    const compiled = compileFilter({ [key]: value }, { description, fields, dateFormat });
    if (compiled) parts.push(compiled);
  }
  return parts;
}

/** Per group: whether any of its rows may pass the filter. */
export function groupsToRead(groups: readonly GroupMeta[], filter: Record<string, unknown> | undefined, description: Description, fields: FieldResolver, dateFormat: DateFormat): boolean[] {
  const parts = partsOf(filter, description, fields, dateFormat);
  const row: Cell[] = new Array(description.columns.length).fill(null);
  const holds = (p: Part, v: Cell) => {
    row[p.column] = v;
    const ok = p.test(row);
    row[p.column] = null;
    return ok;
  };
  return groups.map((g) => {
    for (const p of parts) {
      const s = g.stats[p.column];
      const nullPasses = s.nulls > 0 && holds(p, null);
      if (nullPasses) continue;
      if (s.distinct !== undefined) {
        if (!s.distinct.some((v) => holds(p, v))) return false;
        continue;
      }
      if (p.monotone === "up" && s.max !== undefined && !holds(p, s.max)) return false;
      if (p.monotone === "down" && s.min !== undefined && !holds(p, s.min)) return false;
    }
    return true;
  });
}
