/** CSV and TSV: delimiter and line ending detected (`.tsv` is always tab), encoding detected or declared. */
import type { TableFormat } from "../format";
import { decodeSample, decodeText, detectEncoding } from "../text";
import { containerRefusal } from "../xlsx";
import { csvRecords, detectDialect } from "./parse";

export const csv: TableFormat = {
  name: "CSV",
  extensions: ["csv", "tsv"],
  contentType: "text/csv",
  text: true,
  errors: ["FILE_EMPTY", "FILE_NOT_TABLE", "FILE_ENCODING_INVALID", "SCHEMA_INVALID", "CSV_MALFORMED", "FILE_CHANGED", "FORMAT_UNSUPPORTED", "FILE_FORMAT_MISMATCH"],
  publishing(extension) {
    const kind = extension.toLowerCase() === "tsv" ? "TSV" : "CSV";
    const values = kind === "TSV" ? "Tab" : "Comma";
    return {
      kind,
      hint: `check that the sheet is published as ${kind} (Google Sheets: File → Share → Publish to web → ${values}-separated values) and that the address needs no sign-in`,
    };
  },
  async detect({ sample }, { name, declared }) {
    const container = containerRefusal(sample, name.toLowerCase() === "tsv" ? "TSV" : "CSV");
    if (container) throw container;
    const encoding = declared?.encoding ?? detectEncoding(sample);
    const detected = detectDialect(decodeSample(sample, encoding), name);
    const dialect = declared?.delimiter ? { ...detected, delimiter: declared.delimiter } : detected;
    return {
      format: "CSV",
      records: (bytes, truncated, options) => csvRecords(decodeText(bytes, encoding), dialect, { truncated, upload: options?.upload }),
      cellText: null,
      decimalComma: dialect.delimiter !== ",",
      malformed: { code: "CSV_MALFORMED", extraCells: "Check that record for an unquoted delimiter or a missing header name." },
    };
  },
};
