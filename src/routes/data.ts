/**
 * POST /data: the portal's urlData call. The answer is query/answer.ts's
 * (the compiled form when the table has one, else the file read); this
 * route is HTTP only: the table looked up, the body streamed, the stats line.
 */
import { connectorToken } from "../auth/connector";
import { findTable } from "../catalog/catalog";
import { compiledForm } from "../compiled/serve";
import { type AnswerStats, answerQuery } from "../query/answer";
import { DataRequest, tableParam } from "../request/schemas";
import { answerStream } from "../write/urldata";
import { endpoint } from "./endpoint";

export const data = endpoint({
  body: "form-or-json",
  auth: connectorToken,
  schema: DataRequest,
  handle: async (req, { request, env, config }) => {
    const entry = await findTable(env, config, tableParam(req));
    const signal = request.signal;
    const onStats = config.logStats ? (s: AnswerStats) => logStats(entry.code, s) : undefined;
    const answer = await answerQuery({ env, config, entry }, req, { forms: [compiledForm], signal, onStats });
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };
    if (answer.form === "compiled") headers["x-table-form"] = "compiled";
    return new Response(answerStream(answer.header, answer.rows, entry.code, { signal }), { headers });
  },
});

/** The bench's line per answer (bench/run.ts reads it from the log). */
function logStats(table: string, s: AnswerStats): void {
  const line =
    s.form === "compiled"
      ? { table, compiled: true, bytesRead: s.bytesRead, rowsSent: s.rowsSent, ms: s.ms }
      : { table, bytesRead: s.bytesRead, rowsRead: s.rowsRead, rowsSent: s.rowsSent, ms: s.ms };
  console.log(`bench-stats ${JSON.stringify(line)}`);
}
