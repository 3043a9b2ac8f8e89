/**
 * POST /data: the portal's urlData call.
 * source bytes → parse → convert the needed columns → filter → project → limit → write.
 */
import { connectorToken } from "../auth/connector";
import { describeTable, forgetDescription } from "../catalog/describe";
import { findTable } from "../catalog/catalog";
import type { Config, Env } from "../config/config";
import { planQuery } from "../query/pipeline";
import { answerRows } from "../query/project";
import { tableRows } from "../formats/rows";
import { tableByteRows } from "../formats/byte-rows";
import { DataRequest, portalDateFormat, tableParam } from "../request/schemas";
import { PIECE_BYTES, urlDataBody } from "../write/urldata";
import { counting } from "../streams/bytes";
import { compiledAnswer } from "../compiled/serve";
import { endpoint } from "./endpoint";
import { AppError } from "../errors";

export const data = endpoint({ body: "form-or-json", auth: connectorToken, schema: DataRequest, handle: (req, { request, env, config }) => dataResponse(req, env, config, request.signal) });

async function dataResponse(req: DataRequest, env: Env, config: Config, signal: AbortSignal): Promise<Response> {
  const entry = await findTable(env, config, tableParam(req));
  const dateFormat = portalDateFormat(req.connection, config.defaultDateFormat);
  // A compiled form of the live version answers the same bytes without reading the file.
  const compiled = await compiledAnswer(env, config, entry, req, dateFormat, signal);
  if (compiled) return compiled;
  // Aborted when the client goes away (the request's signal, or the answer's body cancelled), so a pending upstream read is cancelled at once.
  const gone = new AbortController();
  const follow = () => gone.abort();
  if (signal.aborted) gone.abort();
  else signal.addEventListener("abort", follow, { once: true });
  const { description, bytes, access } = await describeTable(env, config, entry, { signal: gone.signal });
  let source: ReturnType<typeof tableRows> | NonNullable<ReturnType<typeof tableByteRows>> | undefined;
  try {
    const plan = planQuery(description, req, dateFormat);

    const stats = { bytes: 0, rows: 0, started: Date.now(), logged: false };
    const read = config.logStats ? counting(bytes, stats) : bytes;
    // UTF-8 CSV is read as byte records, copied into the answer without making strings of its cells (formats/csv/scan.ts).
    source = tableByteRows(read, description) ?? tableRows(read, description, { access });
    const rows = source;
    // The first batch is read before the answer starts: it holds the header
    // check, so a file that changed under its ETag is a 409, not a 200 cut off.
    const first = await rows.next();
    const pump = answerRows(description, plan, rows, {
      first,
      pieceBytes: PIECE_BYTES,
      onBatch: (n) => (stats.rows += n),
      onEnd: (sent) => {
        if (!config.logStats || stats.logged) return;
        stats.logged = true;
        console.log(`bench-stats ${JSON.stringify({ table: entry.code, bytesRead: stats.bytes, rowsRead: stats.rows, rowsSent: sent, ms: Date.now() - stats.started })}`);
      },
    });
    const stop = async () => {
      signal.removeEventListener("abort", follow);
      gone.abort();
      await rows.return(undefined);
    };
    const body = urlDataBody(plan.header, pump, stop, entry.code, { signal });
    return new Response(body, { headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
  } catch (err) {
    signal.removeEventListener("abort", follow);
    if (err instanceof AppError && err.code === "FILE_CHANGED") forgetDescription(description);
    await (source ?? bytes).return(undefined);
    throw err;
  }
}
