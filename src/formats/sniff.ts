/**
 * Refusals that teach (issue 12; docs/design/xlsx-and-exports.md §9): a file
 * under a text format's key (`.csv`, `.json`…) whose first bytes say it is
 * something else — a PDF, an HTML page, a zip archive, a gzip file without
 * `.gz`, or any other binary (NUL bytes) — is refused with what it is and
 * what to send instead, instead of being read as a one-column table of
 * garbage or failing on its "third field". Workbooks (zip with
 * `[Content_Types].xml`, OLE2 `.xls`, ODS) are recognised by the XLSX
 * format's own sniffing, which runs before this.
 */
import { AppError } from "../errors";
import { sniffContainer } from "./xlsx/sniff";

export type SniffedKind = "pdf" | "html" | "zip" | "gzip" | "binary";

export interface Sniffed {
  kind: SniffedKind;
  /** What it is, for the message ("a PDF document"). */
  what: string;
}

// Bytes looked at: magic numbers are at the start; NUL bytes in a text file's first 8 KiB never are.
const NUL_WINDOW = 8 * 1024;
const HTML_START = /^<(?:!doctype\s+html|html|head|body)[\s>]/i;

const startsWith = (b: Uint8Array, magic: readonly number[], at = 0) => b.length >= at + magic.length && magic.every((m, i) => b[at + i] === m);

/** What the first bytes of a file are, when clearly not a text table; null when they may be one. */
export function sniffContent(sample: Uint8Array): Sniffed | null {
  // Workbooks, .xls/.ods and other zips are told apart by the XLSX format's sniffing (in the CSV and JSON formats' detect).
  if (sniffContainer(sample) !== null) return null;
  if (startsWith(sample, [0x25, 0x50, 0x44, 0x46, 0x2d])) return { kind: "pdf", what: "a PDF document" }; // %PDF-
  if (startsWith(sample, [0x50, 0x4b]) && (startsWith(sample, [3, 4], 2) || startsWith(sample, [5, 6], 2) || startsWith(sample, [7, 8], 2))) {
    return { kind: "zip", what: "a zip archive" };
  }
  if (startsWith(sample, [0x1f, 0x8b])) return { kind: "gzip", what: "a gzip-compressed file" };
  // UTF-16 text has NUL bytes by nature: its BOM leaves it to the text decoder.
  const utf16 = startsWith(sample, [0xff, 0xfe]) || startsWith(sample, [0xfe, 0xff]);
  if (!utf16 && sample.subarray(0, NUL_WINDOW).includes(0)) return { kind: "binary", what: "a binary file (it holds NUL bytes, which no text table has)" };
  let at = startsWith(sample, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (at < sample.length && at < 1024 && (sample[at] === 0x20 || sample[at] === 0x09 || sample[at] === 0x0a || sample[at] === 0x0d)) at++;
  if (HTML_START.test(String.fromCharCode(...sample.subarray(at, at + 32)))) return { kind: "html", what: "an HTML page" };
  return null;
}

const INSTEAD = "save the table as CSV UTF-8 (Excel: File → Save As → CSV UTF-8) or as an Excel workbook (.xlsx) and upload that";

/** The refusal for a sniffed file read as `formatName` (`CSV`, `JSON`) under the table `code`. */
export function notATable(sniffed: Sniffed, formatName: string, code: string): AppError {
  const how =
    sniffed.kind === "gzip" ? `if it is a compressed ${formatName} file, name it with .gz at the end (e.g. sales.csv.gz); otherwise ${INSTEAD}`
    : sniffed.kind === "html" ? `it is usually a web page saved or downloaded instead of the file (a sign-in or preview page): download the file itself, or ${INSTEAD}`
    : sniffed.kind === "pdf" ? `a PDF report holds no table the connector can read: ${INSTEAD}`
    : INSTEAD;
  return new AppError("FILE_NOT_TABLE", `The file behind table "${code}" is ${sniffed.what}, not a ${formatName} file: ${how}.`);
}
