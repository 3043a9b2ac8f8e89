/** CSV and TSV: delimiter and line ending detected (`.tsv` is always tab), encoding detected or declared. */
import type { TableFormat } from "../format";
import { decodeSample, decodeText, detectEncoding } from "../text";
import { csvRecords, detectDialect } from "./parse";

export const csv: TableFormat = {
  name: "CSV",
  extensions: ["csv", "tsv"],
  contentType: "text/csv",
  text: true,
  errors: ["FILE_EMPTY", "FILE_NOT_TABLE", "FILE_ENCODING_INVALID", "SCHEMA_INVALID", "CSV_MALFORMED", "FILE_CHANGED"],
  publishing(extension) {
    const kind = extension.toLowerCase() === "tsv" ? "TSV" : "CSV";
    const values = kind === "TSV" ? "Tab" : "Comma";
    return {
      kind,
      hint: `check that the sheet is published as ${kind} (Google Sheets: File → Share → Publish to web → ${values}-separated values) and that the address needs no sign-in`,
    };
  },
  async detect({ sample }, { name, declared }) {
    const encoding = declared?.encoding ?? detectEncoding(sample);
    const detected = detectDialect(decodeSample(sample, encoding), name);
    const dialect = declared?.delimiter ? { ...detected, delimiter: declared.delimiter } : detected;
    return {
      format: "CSV",
      records: (bytes, truncated) => csvRecords(decodeText(bytes, encoding), dialect, { truncated }),
      cellText: null,
      decimalComma: dialect.delimiter !== ",",
      malformed: { code: "CSV_MALFORMED", extraCells: "Check that record for an unquoted delimiter or a missing header name." },
    };
  },
};
