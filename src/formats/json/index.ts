/** JSON: an array of objects or of arrays (header first), or NDJSON (`.ndjson`, `.jsonl`, or `.json` starting with `{`). */

import { decodeSample } from "../decode";
import type { TableFormat } from "../format";
import { containerRefusal } from "../sniff";
import { detectJsonShape, type JsonShape, jsonCellText, jsonElements } from "./parse";

export const json: TableFormat = {
  name: "JSON",
  extensions: ["json", "ndjson", "jsonl"],
  contentType: "application/json",
  text: true,
  errors: [
    "FILE_EMPTY",
    "FILE_NOT_TABLE",
    "FILE_ENCODING_INVALID",
    "JSON_MALFORMED",
    "FILE_CHANGED",
    "FORMAT_UNSUPPORTED",
    "FILE_FORMAT_MISMATCH",
  ],
  publishing: () => ({
    kind: "JSON",
    hint: "check that the address serves the JSON file itself, not a page about it, and needs no sign-in",
  }),
  async detect({ sample }, { name, decided }) {
    const container = containerRefusal(sample, "JSON");
    if (container) throw container;
    // The shape an earlier read decided (the file's manifest), else from the first bytes.
    const shape: JsonShape =
      decided?.shape === "array" || decided?.shape === "ndjson" ? decided.shape : detectJsonShape(decodeSample(sample, "utf-8"), name);
    return {
      format: "JSON",
      records: (bytes, truncated) => jsonElements(bytes, shape, { truncated }),
      cellText: jsonCellText,
      decimalComma: false,
      malformed: { code: "JSON_MALFORMED", extraCells: "Check that record for an extra value or a missing header name." },
      decisions: () => ({ shape }),
    };
  },
};
