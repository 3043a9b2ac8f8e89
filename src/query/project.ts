/**
 * Projection: the rows of a planned query as urlData JSON, UTF-8 bytes pulled
 * piece by piece by the writer. Each row's filter columns are converted and
 * tested; a passing row is written cell by cell straight into a byte buffer
 * (no intermediate strings: see streams/byte-builder.ts), cut into pieces of
 * about `pieceBytes`, so a wide select of long cells never builds one huge
 * buffer. A column selected twice is encoded once per row and its bytes
 * repeated. The limit stops reading the source. Batches of every reading
 * come through one interface (batch.ts).
 */

import type { ByteRowBatch, MixedRowBatches } from "../formats/byte-rows";
import type { RowBatches } from "../formats/rows";
import type { Cell, Description, TextRow } from "../model";
import { ByteBuilder } from "../streams/byte-builder";
import { columnCells, type RowBatch, rowBatch } from "./batch";
import { writeTyped } from "./cells";
import type { QueryPlan } from "./pipeline";

export interface AnswerOptions {
  /** The source's first batch when it was read already (before the answer started). */
  first?: IteratorResult<TextRow[] | ByteRowBatch, void>;
  /** About how many bytes one piece holds (one cell may exceed it). */
  pieceBytes: number;
  /** Called with the size of every source batch read. */
  onBatch?: (rows: number) => void;
  /** Called once when the rows are exhausted or the limit is reached, with the rows sent. */
  onEnd?: (sent: number) => void;
}

/** Pulls the next piece of the answer (`,[…],[…` as UTF-8; empty when a batch matched nothing); null when there is no more. */
export type AnswerPump = () => Promise<Uint8Array | null>;

const COMMA = 44;
const OPEN = 91;
const CLOSE = 93;

const NO_ROWS: RowBatch = { size: 0, typed: () => null, write: () => {} };

export function answerRows(
  description: Description,
  plan: QueryPlan,
  rows: RowBatches | MixedRowBatches,
  options: AnswerOptions,
): AnswerPump {
  const { selected, filter, limit } = plan;
  const cells = columnCells(description);
  const filterCols = filter?.columns ?? [];
  // Per selected position: a column the filter already converted is written
  // from its typed cell; any other goes straight from text (or bytes) to JSON.
  const fromTyped = selected.map((i) => filterCols.includes(i));
  const typed: Cell[] = new Array(description.columns.length).fill(null);
  const unique = [...new Set(selected)];
  const dedupe = unique.length < selected.length;
  const cellJson: (Uint8Array | undefined)[] = new Array(description.columns.length);
  const out = new ByteBuilder(options.pieceBytes + 4096);
  const full = options.pieceBytes;
  // Where the answer stands: the batch, its next row, the position in
  // `selected` of the row being written (-1 between rows), the rows sent.
  let first = options.first ?? null;
  let batch = NO_ROWS;
  let r = 0;
  let col = -1;
  let sent = 0;
  const finish = () => {
    options.onEnd?.(sent);
    return null;
  };
  return async () => {
    let fetched = false;
    for (;;) {
      if (col >= 0) {
        while (col < selected.length) {
          const i = selected[col];
          if (col > 0) out.byte(COMMA);
          const cached = dedupe ? cellJson[i] : undefined;
          if (cached !== undefined) out.bytes(cached);
          else {
            const start = out.length;
            if (fromTyped[col]) writeTyped(out, typed[i]);
            else batch.write(out, r, i);
            if (dedupe) cellJson[i] = out.since(start);
          }
          col++;
          if (out.length >= full) return out.take();
        }
        out.byte(CLOSE);
        col = -1;
        r++;
        if (++sent >= limit) {
          await rows.return(undefined); // stop reading the source
          return out.take();
        }
        continue;
      }
      if (sent >= limit) return out.length > 0 ? out.take() : finish();
      if (r >= batch.size) {
        // One source batch per call: the writer gets control back between them.
        if (out.length > 0 || fetched) return out.take();
        const next = first ?? (await rows.next());
        first = null;
        if (next.done) return finish();
        fetched = true;
        batch = rowBatch(next.value, cells);
        r = 0;
        options.onBatch?.(batch.size);
        continue;
      }
      // Convert what the filter reads and test; only rows that pass are written.
      for (const i of filterCols) typed[i] = batch.typed(r, i);
      if (filter && !filter.test(typed)) {
        r++;
        continue;
      }
      if (dedupe) for (const i of unique) cellJson[i] = undefined;
      out.byte(COMMA);
      out.byte(OPEN);
      col = 0;
    }
  };
}
