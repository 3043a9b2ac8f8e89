/**
 * The query pipeline over a described table, shared by /data and upload
 * inspection: rows of cell text → typed cells (converters) or JSON text
 * (emitters); and for /data, the plan of a request: which columns are
 * selected (resolved through mapFields, codes or header text), the filter
 * parsed once, the limit, and the header row the answer starts with.
 */
import { AppError } from "../errors";
import type { Column, DateFormat, Description } from "../model";
import type { DataRequest } from "../request/schemas";
import { type Converter, converterFor, type Emitter, emitterFor, type ValueOptions } from "../values/convert";
import { FieldResolver } from "./fields";
import { type FilterPlan, planFilter } from "./filter";

// Far more than any dataset has fields; a wide table may select all its columns.
export const MAX_SELECT = 1000;

function valueOptions(d: Description, c: Column): ValueOptions {
  return {
    decimalComma: d.decimalComma,
    slashOrder: c.slashOrder,
    ...(c.numberFormat ? { numberFormat: c.numberFormat } : {}),
    ...(c.declared ? { declared: true } : {}),
  };
}

/** Per column: text → typed cell (what filters compare, and what inspection checks). */
export function convertersFor(d: Description): Converter[] {
  return d.columns.map((c) => converterFor(c.type, valueOptions(d, c)));
}

/** Per column: text → JSON text for the answer. */
export function emittersFor(d: Description): Emitter[] {
  return d.columns.map((c) => emitterFor(c.type, valueOptions(d, c)));
}

export interface QueryPlan {
  /** Column indexes in answer order (a column may appear twice). */
  selected: number[];
  filter: FilterPlan | null;
  limit: number;
  /** The answer's header row: the select names exactly as requested (BI Builder pairs them with its field names), or every column code. */
  header: string[];
}

export function planQuery(description: Description, req: DataRequest, dateFormat: DateFormat): QueryPlan {
  const fields = new FieldResolver(description.columns, req.mapFields);
  const maxSelect = Math.max(MAX_SELECT, description.columns.length);
  if (req.select && req.select.length > maxSelect) {
    throw new AppError(
      "REQUEST_INVALID",
      `Parameter select lists ${req.select.length} fields; at most ${maxSelect} are allowed (${MAX_SELECT}, or the table's ${description.columns.length} columns if more). Select each field once.`,
    );
  }
  const selected =
    req.select && req.select.length > 0 ? req.select.map((id) => fields.resolve(id, "select")) : description.columns.map((_, i) => i);
  const filter = planFilter(req.filter, { description, fields, dateFormat });
  const limit = req.limit && req.limit > 0 ? req.limit : Infinity;
  const header = req.select && req.select.length > 0 ? req.select : selected.map((i) => description.columns[i].code);
  return { selected, filter, limit, header };
}
