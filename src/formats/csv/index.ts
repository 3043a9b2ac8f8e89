/** CSV and TSV: delimiter and line ending detected (`.tsv` is always tab), encoding detected or declared. */
import type { Bytes, ReadOptions, RecordReader } from "../../model";
import { detectCharset, type EncodingChoice } from "../../values/charset";
import { normalizeEncoding } from "../../values/encodings";
import { decodeChosen, decodeSample } from "../decode";
import type { TableFormat } from "../format";
import { containerRefusal } from "../sniff";
import { type CsvDialect, csvRecords, detectDialect } from "./parse";
import { csvByteRecords } from "./scan";

/** What a CSV reader decided about its file (kept in the manifest). */
type CsvDecisions = {
  encoding: EncodingChoice;
  dialect: CsvDialect;
};

function decidedOf(value: Record<string, unknown> | undefined): CsvDecisions | undefined {
  const d = value as Partial<CsvDecisions> | undefined;
  return d && typeof d.encoding?.encoding === "string" && typeof d.dialect?.delimiter === "string" ? (d as CsvDecisions) : undefined;
}

/**
 * The reader of one file's decisions. A frozen value: a read of a file whose
 * encoding is still open (`how: "ascii"`) decides it for itself, and reports
 * the reader of that decision through `onDecided` (an upload keeps it in the
 * manifest); the next read starts from these same decisions.
 */
function csvReader(choice: EncodingChoice, dialect: CsvDialect): RecordReader {
  const decisions: CsvDecisions = Object.freeze({ encoding: Object.freeze({ ...choice }), dialect: Object.freeze({ ...dialect }) });
  // Byte records need UTF-8 (or an ASCII-so-far file, read as UTF-8 until a byte says otherwise: scan.ts),
  // a one-byte delimiter and a line break the scanner knows.
  const bytewise =
    normalizeEncoding(choice.encoding) === "utf-8" && /^[^"\r\n\ufeff\u0080-\uffff]$/.test(dialect.delimiter) && dialect.newline !== "\r";
  const decidedBy = (onDecided: ReadOptions["onDecided"]) =>
    onDecided ? (c: EncodingChoice) => onDecided(csvReader(c, dialect)) : undefined;
  return Object.freeze({
    format: "CSV",
    records: (bytes: Bytes, truncated: boolean, options?: ReadOptions) =>
      csvRecords(decodeChosen(bytes, decisions.encoding, decidedBy(options?.onDecided)), dialect, { truncated, upload: options?.upload }),
    byteRecords: bytewise ? (bytes: Bytes) => csvByteRecords(bytes, dialect, decisions.encoding) : undefined,
    cellText: null,
    decimalComma: dialect.delimiter !== ",",
    malformed: { code: "CSV_MALFORMED" as const, extraCells: "Check that record for an unquoted delimiter or a missing header name." },
    decisions: () => decisions,
  });
}

export const csv: TableFormat = {
  name: "CSV",
  extensions: ["csv", "tsv"],
  contentType: "text/csv",
  text: true,
  errors: [
    "FILE_EMPTY",
    "FILE_NOT_TABLE",
    "FILE_ENCODING_INVALID",
    "SCHEMA_INVALID",
    "CSV_MALFORMED",
    "FILE_CHANGED",
    "FORMAT_UNSUPPORTED",
    "FILE_FORMAT_MISMATCH",
  ],
  publishing(extension) {
    const kind = extension.toLowerCase() === "tsv" ? "TSV" : "CSV";
    const values = kind === "TSV" ? "Tab" : "Comma";
    return {
      kind,
      hint: `check that the sheet is published as ${kind} (Google Sheets: File → Share → Publish to web → ${values}-separated values) and that the address needs no sign-in`,
    };
  },
  async detect({ sample, complete }, { name, sidecar, decided }) {
    const container = containerRefusal(sample, name.toLowerCase() === "tsv" ? "TSV" : "CSV");
    if (container) throw container;
    const before = decidedOf(decided);
    // A declared encoding wins; then what was decided over the whole file; then the first bytes.
    const choice: EncodingChoice = sidecar?.encoding
      ? { encoding: sidecar.encoding, how: "declared" }
      : (before?.encoding ?? detectCharset(sample, complete));
    const detected = before?.dialect ?? detectDialect(decodeSample(sample, choice.encoding), name);
    const dialect = sidecar?.delimiter ? { ...detected, delimiter: sidecar.delimiter } : detected;
    return csvReader(choice, dialect);
  },
};
