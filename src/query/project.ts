/**
 * Projection: the rows of a planned query as urlData JSON text, pulled piece
 * by piece by the writer. Each row's filter columns are converted and tested;
 * a passing row is written cell by cell into pieces of at most `pieceChars`,
 * so a wide select of long cells never builds one huge string. A column
 * selected twice is encoded once per row and its JSON repeated. The limit
 * stops reading the source.
 */
import type { RowBatches } from "../formats/rows";
import type { Cell, Description, TextRow } from "../model";
import { cellToJson } from "../values/convert";
import { convertersFor, emittersFor, type QueryPlan } from "./pipeline";

export interface AnswerOptions {
  /** The source's first batch when it was read already (before the answer started). */
  first?: IteratorResult<TextRow[], void>;
  pieceChars: number;
  /** Called with the size of every source batch read. */
  onBatch?: (rows: number) => void;
  /** Called once when the rows are exhausted or the limit is reached, with the rows sent. */
  onEnd?: (sent: number) => void;
}

/** Pulls the next piece of the answer (`,[…],[…` JSON text); null when there is no more. */
export type AnswerPump = () => Promise<string | null>;

export function answerRows(description: Description, plan: QueryPlan, rows: RowBatches, options: AnswerOptions): AnswerPump {
  const { selected, filter, limit } = plan;
  const converters = convertersFor(description);
  const emitters = emittersFor(description);
  const filterCols = filter?.columns ?? [];
  // Per selected position: a column the filter already converted is written
  // from its typed cell; any other goes straight from text to JSON.
  const fromTyped = selected.map((i) => filterCols.includes(i));
  const typed: Cell[] = new Array(description.columns.length).fill(null);
  const unique = [...new Set(selected)];
  const dedupe = unique.length < selected.length;
  const cellJson: (string | undefined)[] = new Array(description.columns.length);
  let first = options.first ?? null;
  let batch: TextRow[] = [];
  let sent = 0;
  let r = 0; // the row of `batch` to look at next
  let col = -1; // position in `selected` while a row is being written; -1 between rows
  const finish = () => {
    options.onEnd?.(sent);
    return null;
  };
  return async () => {
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
          if (out.length >= options.pieceChars) return out;
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
        options.onBatch?.(batch.length);
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
}
