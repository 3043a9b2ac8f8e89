/**
 * A toy format for the conformance suite: pipe-separated values (`.psv`),
 * always `|`, always UTF-8. It is a whole format in one folder: adding it to
 * a registry (formatRegistry([...FORMATS.formats, psv])) is the only other
 * change, which is what adding XLSX or Parquet to formats/registry.ts takes.
 */
import { csvRecords } from "../../../src/formats/csv/parse";
import { decodeText } from "../../../src/formats/decode";
import type { TableFormat } from "../../../src/formats/format";

export const psv: TableFormat = {
  name: "PSV",
  extensions: ["psv"],
  contentType: "text/plain",
  errors: ["FILE_EMPTY", "FILE_ENCODING_INVALID", "CSV_MALFORMED", "FILE_CHANGED"],
  publishing: () => ({ kind: "PSV", hint: "check that the address serves the file itself and needs no sign-in" }),
  async detect({ sample }) {
    const at = new TextDecoder().decode(sample).search(/\r?\n/);
    const newline = at >= 0 && sample[at] === 13 ? "\r\n" : "\n";
    return {
      format: "PSV",
      records: (bytes, truncated) => csvRecords(decodeText(bytes, "utf-8"), { delimiter: "|", newline }, { truncated }),
      cellText: null,
      decimalComma: false,
      malformed: { code: "CSV_MALFORMED", extraCells: "Check that record for an extra |." },
    };
  },
};
