/**
 * POST /data: the portal's urlData call.
 * source bytes → parse → convert the needed columns → filter → project → limit → write.
 */
import { describe, type Description } from "../catalog/describe";
import { findTable } from "../catalog/catalog";
import type { Config, Env } from "../config";
import { compileFilter } from "../filter/compile";
import { FieldResolver } from "../project/fields";
import { tableRows } from "../parse/rows";
import { DataRequest, tableParam } from "../validate/requests";
import { cellToJson, converterFor, type Converter } from "../values/convert";
import type { Cell, DateFormat } from "../values/types";
import { DATE_FORMATS } from "../values/types";
import { urlDataBody } from "../write/urldata";
import { badRequest } from "../http/errors";

function portalDateFormat(req: DataRequest, config: Config): DateFormat {
  const setting = req.connection?.date_format?.trim().toUpperCase();
  if (setting === undefined || setting === "") return config.defaultDateFormat;
  const known = DATE_FORMATS.find((f) => f === setting);
  if (!known) throw badRequest("REQUEST_INVALID", `The source setting date_format "${setting}" is not one of ${DATE_FORMATS.join(", ")}.`);
  return known;
}

function convertersFor(d: Description): Converter[] {
  return d.columns.map((c) => converterFor(c.type, { decimalComma: d.decimalComma, slashOrder: c.slashOrder }));
}

export async function dataResponse(req: DataRequest, env: Env, config: Config): Promise<Response> {
  const entry = await findTable(env, config, tableParam(req));
  const dateFormat = portalDateFormat(req, config);
  const { description, bytes } = await describe(env, config, entry);
  let source: ReturnType<typeof tableRows> | undefined;
  try {
    const fields = new FieldResolver(description.columns, req.mapFields);
    const selected = req.select && req.select.length > 0
      ? req.select.map((id) => fields.resolve(id, "select"))
      : description.columns.map((_, i) => i);
    const filter = compileFilter(req.filter, { description, fields, dateFormat });
    const limit = req.limit && req.limit > 0 ? req.limit : Infinity;

    const converters = convertersFor(description);
    const filterCols = filter?.columns ?? [];
    const outputOnly = selected.filter((i) => !filterCols.includes(i));
    const typed: Cell[] = new Array(description.columns.length).fill(null);
    const header = selected.map((i) => description.columns[i].code);

    source = tableRows(bytes, description);
    const rows = source;
    let sent = 0;
    const pump = async (): Promise<string[] | null> => {
      if (sent >= limit) return null;
      const next = await rows.next();
      if (next.done) return null;
      const out: string[] = [];
      for (const row of next.value) {
        // Convert what the filter reads, test, then convert only what is sent.
        for (const i of filterCols) typed[i] = converters[i](row[i]);
        if (filter && !filter.test(typed)) continue;
        for (const i of outputOnly) typed[i] = converters[i](row[i]);
        let json = "[";
        for (let k = 0; k < selected.length; k++) json += (k ? "," : "") + cellToJson(typed[selected[k]]);
        out.push(`${json}]`);
        if (++sent >= limit) {
          await rows.return(undefined); // stop reading the source
          break;
        }
      }
      return out;
    };
    const body = urlDataBody(header, pump, async () => void (await rows.return(undefined)), `table "${entry.code}"`);
    return new Response(body, { headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
  } catch (err) {
    await (source ?? bytes).return(undefined);
    throw err;
  }
}
