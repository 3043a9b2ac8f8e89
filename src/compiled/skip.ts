/**
 * Which row groups a filter may match, from the groups' stats alone. Exact
 * by construction: a group is skipped only when a top-level part (the
 * filter's parts are ANDed) is false for every value the group holds. The
 * part is the request's own predicate (query/filter.ts FilterPlan), tried on
 * the values the stats list; nothing here re-implements filter semantics.
 * - a part on one column whose distinct values (and null, if any) are known:
 *   skipped when it holds for none of them;
 * - `>=`/`>` (or `<=`/`<`) on a number or date column: skipped when it fails
 *   on the group's max (or min) and on null. These operators are monotone in
 *   the value, "any of" a list included.
 */
import type { Cell, Description } from "../model";
import type { FilterPart, FilterPlan } from "../query/filter";
import type { GroupMeta } from "./storage";

/** "up": a part true for a value is true for all values above it; "down": below; null: neither known. */
function monotone(part: FilterPart, description: Description): "up" | "down" | null {
  const c = part.condition;
  if (!c || c.negate || description.columns[c.column].type === "string") return null;
  if (c.op === "ge" || c.op === "gt") return "up";
  if (c.op === "le" || c.op === "lt") return "down";
  return null;
}

/** Per group: whether any of its rows may pass the filter. */
export function groupsToRead(groups: readonly GroupMeta[], filter: FilterPlan | null, description: Description): boolean[] {
  const parts = (filter?.parts ?? [])
    .filter((p) => p.columns.length === 1)
    .map((p) => ({ column: p.columns[0], test: p.test, monotone: monotone(p, description) }));
  const row: Cell[] = new Array(description.columns.length).fill(null);
  const holds = (p: (typeof parts)[number], v: Cell) => {
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
