/**
 * CSV records from a text stream, parsed by papaparse's core Parser.
 *
 * We drive `Papa.Parser` directly instead of `Papa.parse(stream)`: in workerd
 * a Web ReadableStream is mistaken for a File, and Papa's own pause/resume
 * does not reach the stream. Feeding decoded chunks ourselves keeps
 * back-pressure in our read loop and yields whole batches of records per
 * chunk. `ignoreLastRow` makes the parser stop at the last complete record,
 * so quoted fields and rows that span chunk boundaries are handled exactly as
 * Papa's own ChunkStreamer does it.
 */
import Papa from "papaparse";
import { AppError } from "../../errors";
import type { Text } from "../decode";

/** The delimiter and line ending of a CSV file. */
export interface CsvDialect {
  delimiter: string;
  newline: "\n" | "\r\n" | "\r";
}

export type Records = AsyncGenerator<string[][], void, undefined>;

interface PapaCore {
  parse(input: string, baseIndex: number, ignoreLastRow: boolean): Papa.ParseResult<string[]>;
}
const Parser = (Papa as unknown as { Parser: new (config: Papa.ParseConfig) => PapaCore }).Parser;

// Below this much text we wait for more before calling the parser: fewer,
// larger parse calls are markedly faster than one per small network chunk.
const MIN_PARSE_CHARS = 256 * 1024;

// A record longer than this is almost surely a quote that was never closed;
// stop instead of buffering the rest of the file looking for its end.
const MAX_RECORD_CHARS = 16 * 1024 * 1024;

/**
 * `truncated`: the text is a prefix of the file, so its last record may be cut.
 * `upload`: the text is a whole file being uploaded. Short records are padded
 * by design (exports drop trailing empty cells), but a short LAST record with
 * no line break after it is what a file cut off at a field boundary looks
 * like (`…\n4,5` of `…\n4,5,6\n`): an export that stopped early. It is
 * refused at upload; ended with a line break, the same record is a short row
 * like any other (a cut cannot produce the line break). A stored file is
 * served with its short last record: the check is the upload's (`upload`).
 */
export async function* csvRecords(
  text: Text,
  dialect: CsvDialect,
  options: { truncated?: boolean; upload?: boolean; recordsBefore?: number } = {},
): Records {
  const parser = new Parser({ delimiter: dialect.delimiter, newline: dialect.newline, quoteChar: '"' });
  const stripCr = dialect.newline === "\n";
  let pending = "";
  // A read that continues another (formats/csv/scan.ts) numbers its records after that one's.
  let recordsBefore = options.recordsBefore ?? 0;
  /** Fields of the header (the first record that is not a blank line). */
  let headerFields = -1;

  const run = (input: string, last: boolean): string[][] => {
    const result = parser.parse(input, 0, !last);
    for (const e of result.errors) {
      if (e.code === "MissingQuotes" || e.code === "InvalidQuotes") {
        const record = recordsBefore + (e.row ?? 0) + 1;
        throw new AppError(
          "CSV_MALFORMED",
          e.code === "MissingQuotes"
            ? `CSV record ${record} (the header is record 1) opens a quoted field that is never closed. Check for a stray " in that record.`
            : `CSV record ${record} (the header is record 1) has text after a closing quote. Inside a quoted field a quote must be doubled ("").`,
        );
      }
    }
    pending = last ? "" : input.slice(result.meta.cursor);
    const rows = result.data;
    const out: string[][] = [];
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (row.length === 1 && (row[0] === "" || (stripCr && row[0] === "\r"))) {
        // A blank line: kept as an empty record, so that rows are numbered as
        // lines (formats/report-layout.ts); the "line" after the file's final newline is none.
        if (!(last && r === rows.length - 1)) out.push([]);
        continue;
      }
      if (stripCr) {
        const lastCell = row[row.length - 1];
        if (lastCell.endsWith("\r")) row[row.length - 1] = lastCell.slice(0, -1);
      }
      if (headerFields < 0) headerFields = row.length;
      out.push(row);
    }
    if (last && options.upload && out.length > 0 && !/[\r\n]$/.test(input)) {
      const final = out[out.length - 1];
      const record = recordsBefore + rows.length;
      if (record > 1 && final.length < headerFields) {
        throw new AppError(
          "CSV_MALFORMED",
          `CSV record ${record} (the header is record 1), the last one, has ${final.length} of the header's ${headerFields} fields and no line break after it: the file looks cut off (an export or copy that stopped early). Upload the complete file; if that record is meant to be short, end the file with a line break.`,
        );
      }
    }
    recordsBefore += rows.length;
    return out;
  };

  // A parse that finds no complete record re-reads all of `pending`; waiting
  // until it has doubled before trying again keeps the total work linear in
  // the file (re-parsing a 20 MB unclosed quote per chunk takes 17 s and 1 GB).
  let parseAt = MIN_PARSE_CHARS;
  for await (const chunk of text) {
    pending += chunk;
    if (pending.length < parseAt) continue;
    const rows = run(pending, false);
    if (rows.length > 0) {
      parseAt = Math.max(MIN_PARSE_CHARS, Math.min(2 * pending.length, MAX_RECORD_CHARS + 1));
      yield rows;
    } else if (pending.length > MAX_RECORD_CHARS) {
      throw new AppError(
        "CSV_MALFORMED",
        `CSV record ${recordsBefore + 1} (the header is record 1) is longer than 16 MB: most likely a quoted field is never closed. Check for a stray " in that record.`,
      );
    } else {
      parseAt = Math.min(2 * pending.length, MAX_RECORD_CHARS + 1);
    }
  }
  // A sample ends mid-record: drop the partial record instead of misreading it.
  if (options.truncated) {
    const rows = run(pending, false);
    if (rows.length > 0) yield rows;
    return;
  }
  if (pending !== "") {
    const rows = run(pending, true);
    if (rows.length > 0) yield rows;
  }
}

const CANDIDATES = [",", ";", "\t", "|"];

/** Delimiter and line ending of a sample (the delimiter guessed by papaparse). */
export function detectDialect(sample: string, extension: string): CsvDialect {
  // The first line break ends the header row, which never holds quoted breaks in practice.
  const at = sample.search(/[\r\n]/);
  const newline: CsvDialect["newline"] = at < 0 || sample[at] === "\n" ? "\n" : sample[at + 1] === "\n" ? "\r\n" : "\r";
  if (extension === "tsv") return { delimiter: "\t", newline };
  const guess = Papa.parse<string[]>(sample, { delimitersToGuess: CANDIDATES, newline, preview: 50, skipEmptyLines: true });
  const delimiter = CANDIDATES.includes(guess.meta.delimiter) ? guess.meta.delimiter : ",";
  return { delimiter, newline };
}
