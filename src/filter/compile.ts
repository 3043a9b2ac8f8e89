/**
 * The filter engine (PROTOCOL.md §3). Compiled once per request into a
 * predicate over typed cells; applied while streaming, before projection.
 */
import type { Description } from "../catalog/describe";
import { badRequest } from "../http/errors";
import type { FieldResolver } from "../project/fields";
import type { Cell, DateFormat } from "../values/types";

export type Predicate = (row: readonly Cell[]) => boolean;

export interface CompiledFilter {
  /** Columns the predicate reads (they must be converted before it runs). */
  columns: number[];
  test: Predicate;
}

export interface FilterContext {
  description: Description;
  fields: FieldResolver;
  /** The portal's date format, from the source's date_format setting. */
  dateFormat: DateFormat;
}

export function compileFilter(filter: Record<string, unknown> | undefined, _ctx: FilterContext): CompiledFilter | null {
  if (filter === undefined || Object.keys(filter).length === 0) return null;
  throw badRequest("FILTER_INVALID", "Filters are not supported yet.");
}
