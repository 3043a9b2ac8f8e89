/**
 * answerQuery: the one way a /data query is answered, for the /data route,
 * the app page's preview, the tests and the bench. It plans the request
 * against the table's description and picks the source: a stored form of
 * the table that can answer without reading the file (the compiled form,
 * passed in as a TableForm: compiled/ sits above query/ in the stages, so
 * query/ defines what it needs and compiled/ implements it), else the file
 * read as byte records (UTF-8 CSV, formats/byte-rows.ts), else as text rows.
 * It returns the header and the rows, pulled; HTTP is the caller's.
 */
import { describeTable, forgetDescription } from "../catalog/describe";
import type { Config, Env } from "../config/config";
import { AppError } from "../errors";
import { tableByteRows } from "../formats/byte-rows";
import { tableRows } from "../formats/rows";
import type { Description, TableEntry } from "../model";
import { type DataRequest, portalDateFormat } from "../request/schemas";
import { counting } from "../streams/bytes";
import { type AnswerRows, PIECE_BYTES } from "../write/urldata";
import { planQuery, type QueryPlan } from "./pipeline";
import { answerRows } from "./project";

/** A table and where it is stored. */
export interface TableRef {
  env: Env;
  config: Config;
  entry: TableEntry;
}

/** Which source answered: the compiled form, the file's byte records, or its text rows. */
export type AnswerForm = "compiled" | "bytes" | "text";

/** What an answer read and sent, once it ended (for the bench's stats line). */
export interface AnswerStats {
  form: AnswerForm;
  bytesRead: number;
  /** Data rows read from the file (not counted for a compiled answer). */
  rowsRead?: number;
  rowsSent: number;
  ms: number;
}

export interface Answer {
  form: AnswerForm;
  /** The answer's header row. */
  header: string[];
  rows: AnswerRows;
}

export interface AnswerOptions {
  /** Stored forms tried first, in order (compiled/serve.ts compiledForm). */
  forms?: readonly TableForm[];
  /** The client is gone when it aborts: production stops and the source's read is cancelled. */
  signal?: AbortSignal;
  /** Hears the answer's stats once it ended (bytes are counted only when given). */
  onStats?: (stats: AnswerStats) => void;
}

/**
 * A stored form of a table that answers queries without reading its file.
 * `open` finds the form for the table's live version (null: none, the file
 * is read); its description must be the one the file's reading has.
 */
export interface TableForm {
  open(table: TableRef): Promise<OpenForm | null>;
}

export interface OpenForm {
  description: Description;
  /** The answer to `plan`, or null when the form cannot answer after all (its objects went meanwhile). */
  answer(plan: QueryPlan, options: Pick<AnswerOptions, "onStats">): Promise<Answer | null>;
}

export async function answerQuery(table: TableRef, req: DataRequest, options: AnswerOptions = {}): Promise<Answer> {
  const dateFormat = portalDateFormat(req.connection, table.config.defaultDateFormat);
  for (const form of options.forms ?? []) {
    const open = await form.open(table);
    if (!open) continue;
    const answer = await open.answer(planQuery(open.description, req, dateFormat), options);
    if (answer) return answer;
  }
  return answerFromFile(table, req, dateFormat, options);
}

/** The answer read from the file: byte records where its reader has them, else text rows. */
async function answerFromFile(
  table: TableRef,
  req: DataRequest,
  dateFormat: ReturnType<typeof portalDateFormat>,
  options: AnswerOptions,
): Promise<Answer> {
  const { env, config, entry } = table;
  const { signal, onStats } = options;
  // Aborted when the client goes away (the request's signal, or the answer's body cancelled), so a pending upstream read is cancelled at once.
  const gone = new AbortController();
  const follow = () => gone.abort();
  if (signal?.aborted) gone.abort();
  else signal?.addEventListener("abort", follow, { once: true });
  const { description, bytes, access } = await describeTable(env, config, entry, { signal: gone.signal });
  let source: ReturnType<typeof tableRows> | NonNullable<ReturnType<typeof tableByteRows>> | undefined;
  try {
    const plan = planQuery(description, req, dateFormat);
    const stats = { bytes: 0, rows: 0, started: Date.now(), ended: false };
    const read = onStats ? counting(bytes, stats) : bytes;
    // UTF-8 CSV is read as byte records, copied into the answer without making strings of its cells (formats/csv/scan.ts).
    const byteRows = tableByteRows(read, description);
    source = byteRows ?? tableRows(read, description, { access });
    const rows = source;
    // The first batch is read before the answer starts: it holds the header
    // check, so a file that changed under its ETag is a 409, not a 200 cut off.
    const first = await rows.next();
    const form: AnswerForm = byteRows ? "bytes" : "text";
    const pump = answerRows(description, plan, rows, {
      first,
      pieceBytes: PIECE_BYTES,
      onBatch: (n) => (stats.rows += n),
      onEnd: (sent) => {
        if (!onStats || stats.ended) return;
        stats.ended = true;
        onStats({ form, bytesRead: stats.bytes, rowsRead: stats.rows, rowsSent: sent, ms: Date.now() - stats.started });
      },
    });
    const cancel = async () => {
      signal?.removeEventListener("abort", follow);
      gone.abort();
      await rows.return(undefined);
    };
    return { form, header: plan.header, rows: { pump, cancel } };
  } catch (err) {
    signal?.removeEventListener("abort", follow);
    if (err instanceof AppError && err.code === "FILE_CHANGED") forgetDescription(description);
    await (source ?? bytes).return(undefined);
    throw err;
  }
}

/**
 * An answer's rows as the JSON values the portal gets (the header first),
 * read to the end in this isolate: for the app page's preview of a few rows.
 */
export async function answerValues(answer: Answer): Promise<unknown[][]> {
  const decoder = new TextDecoder();
  let text = "";
  const { rows } = answer;
  if ("pump" in rows) {
    try {
      for (let piece = await rows.pump(); piece !== null; piece = await rows.pump())
        text += typeof piece === "string" ? piece : decoder.decode(piece, { stream: true });
    } finally {
      await rows.cancel();
    }
  } else {
    for (let stream = await rows.streams(); stream !== null; stream = await rows.streams()) {
      for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
    }
  }
  text += decoder.decode();
  return JSON.parse(`[${JSON.stringify(answer.header)}${text}]`) as unknown[][];
}
