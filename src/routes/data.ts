/**
 * POST /data: the portal's urlData call.
 * source bytes → parse → convert the needed columns → filter → project → limit → write.
 */
import { connectorToken } from "../auth/connector";
import { describeTable, forgetDescription } from "../catalog/describe";
import { findTable } from "../catalog/catalog";
import type { Config, Env } from "../config/config";
import { convertersFor, emittersFor, planQuery } from "../query/pipeline";
import { tableRows } from "../formats/rows";
import { DataRequest, portalDateFormat, tableParam } from "../request/schemas";
import { cellToJson } from "../values/convert";
import { PIECE_CHARS, urlDataBody } from "../write/urldata";
import { counting } from "../streams/bytes";
import { endpoint } from "./endpoint";
import { AppError } from "../errors";
import type { Cell, TextRow } from "../model";

export const data = endpoint({ body: "form-or-json", auth: connectorToken, schema: DataRequest, handle: (req, { env, config }) => dataResponse(req, env, config) });

async function dataResponse(req: DataRequest, env: Env, config: Config): Promise<Response> {
  const entry = await findTable(env, config, tableParam(req));
  const dateFormat = portalDateFormat(req.connection, config.defaultDateFormat);
  // Aborted when the client goes away, so a pending upstream read is cancelled at once.
  const gone = new AbortController();
  const { description, bytes } = await describeTable(env, config, entry, { signal: gone.signal });
  let source: ReturnType<typeof tableRows> | undefined;
  try {
    const { selected, filter, limit, header } = planQuery(description, req, dateFormat);

    const converters = convertersFor(description);
    const emitters = emittersFor(description);
    const filterCols = filter?.columns ?? [];
    // Per selected position: a column the filter already converted is written
    // from its typed cell; any other goes straight from text to JSON.
    const fromTyped = selected.map((i) => filterCols.includes(i));
    const typed: Cell[] = new Array(description.columns.length).fill(null);

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
    // Rows are written cell by cell into pieces of at most PIECE_CHARS, so a
    // wide select of long cells never builds one huge string. A column
    // selected twice is encoded once per row and its JSON repeated.
    const unique = [...new Set(selected)];
    const dedupe = unique.length < selected.length;
    const cellJson: (string | undefined)[] = new Array(description.columns.length);
    let batch: TextRow[] = [];
    let r = 0; // the row of `batch` to look at next
    let col = -1; // position in `selected` while a row is being written; -1 between rows
    const pump = async (): Promise<string | null> => {
      let out = "";
      let fetched = false;
      for (;;) {
        if (col >= 0) {
          const row = batch[r];
          while (col < selected.length) {
            const i = selected[col];
            let json = dedupe ? cellJson[i] : undefined;
            if (json === undefined) {
              json = fromTyped[col] ? cellToJson(typed[i]) : emitters[i](row[i]);
              if (dedupe) cellJson[i] = json;
            }
            out += col === 0 ? json : `,${json}`;
            col++;
            if (out.length >= PIECE_CHARS) return out;
          }
          out += "]";
          col = -1;
          r++;
          if (++sent >= limit) {
            await rows.return(undefined); // stop reading the source
            return out;
          }
          continue;
        }
        if (sent >= limit) return out !== "" ? out : finish();
        if (r >= batch.length) {
          // One source batch per call: the writer gets control back between them.
          if (out !== "" || fetched) return out;
          const next = first ?? (await rows.next());
          first = null;
          if (next.done) return finish();
          fetched = true;
          batch = next.value;
          r = 0;
          stats.rows += batch.length;
          continue;
        }
        const row = batch[r];
        // Convert what the filter reads and test; only rows that pass are written.
        for (const i of filterCols) typed[i] = converters[i](row[i]);
        if (filter && !filter.test(typed)) {
          r++;
          continue;
        }
        if (dedupe) for (const i of unique) cellJson[i] = undefined;
        out += ",[";
        col = 0;
      }
    };
    const stop = async () => {
      gone.abort();
      await rows.return(undefined);
    };
    const body = urlDataBody(header, pump, stop, `table "${entry.code}"`);
    return new Response(body, { headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
  } catch (err) {
    if (err instanceof AppError && err.code === "FILE_CHANGED") forgetDescription(description);
    await (source ?? bytes).return(undefined);
    throw err;
  }
}
