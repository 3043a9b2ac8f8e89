/**
 * POST /data: the portal's urlData call.
 * source bytes → parse → convert the needed columns → filter → project → limit → write.
 */
import { describe, forgetDescription, type Description } from "../catalog/describe";
import { findTable } from "../catalog/catalog";
import type { Config, Env } from "../config";
import { compileFilter } from "../filter/compile";
import { FieldResolver } from "../project/fields";
import { tableRows, type TextRow } from "../parse/rows";
import { DataRequest, portalDateFormat, tableParam } from "../validate/requests";
import { cellToJson, converterFor, emitterFor, type Converter, type Emitter } from "../values/convert";
import type { Cell } from "../values/types";
import { urlDataBody } from "../write/urldata";
import { counting } from "../source/bytes";
import { AppError } from "../http/errors";

function convertersFor(d: Description): Converter[] {
  return d.columns.map((c) => converterFor(c.type, { decimalComma: d.decimalComma, slashOrder: c.slashOrder }));
}

function emittersFor(d: Description): Emitter[] {
  return d.columns.map((c) => emitterFor(c.type, { decimalComma: d.decimalComma, slashOrder: c.slashOrder }));
}

export async function dataResponse(req: DataRequest, env: Env, config: Config): Promise<Response> {
  const entry = await findTable(env, config, tableParam(req));
  const dateFormat = portalDateFormat(req.connection, config.defaultDateFormat);
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
    const emitters = emittersFor(description);
    const filterCols = filter?.columns ?? [];
    // Per selected position: a column the filter already converted is written
    // from its typed cell; any other goes straight from text to JSON.
    const fromTyped = selected.map((i) => filterCols.includes(i));
    const typed: Cell[] = new Array(description.columns.length).fill(null);
    // The header echoes the select names exactly as requested (BI Builder pairs
    // them with its field names); without a select it is every column code.
    const header = req.select && req.select.length > 0 ? req.select : selected.map((i) => description.columns[i].code);

    const stats = { bytes: 0, rows: 0, started: Date.now(), logged: false };
    source = tableRows(config.logStats ? counting(bytes, stats) : bytes, description);
    const rows = source;
    // The first batch is read before the answer starts: it holds the header
    // check, so a file that changed under its ETag is a 409, not a 200 cut off.
    let first: IteratorResult<TextRow[], void> | null = await rows.next();
    let sent = 0;
    const finish = () => {
      if (!config.logStats || stats.logged) return null;
      stats.logged = true;
      console.log(`bench-stats ${JSON.stringify({ table: entry.code, bytesRead: stats.bytes, rowsRead: stats.rows, rowsSent: sent, ms: Date.now() - stats.started })}`);
      return null;
    };
    const pump = async (): Promise<string[] | null> => {
      if (sent >= limit) return finish();
      const next = first ?? (await rows.next());
      first = null;
      if (next.done) return finish();
      stats.rows += next.value.length;
      const out: string[] = [];
      for (const row of next.value) {
        // Convert what the filter reads and test; only rows that pass are written.
        for (const i of filterCols) typed[i] = converters[i](row[i]);
        if (filter && !filter.test(typed)) continue;
        let json = "[";
        for (let k = 0; k < selected.length; k++) {
          const i = selected[k];
          json += (k ? "," : "") + (fromTyped[k] ? cellToJson(typed[i]) : emitters[i](row[i]));
        }
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
    if (err instanceof AppError && err.code === "FILE_CHANGED") forgetDescription(description);
    await (source ?? bytes).return(undefined);
    throw err;
  }
}
