/**
 * What a file's first bytes say it is, whatever its key's extension, and the
 * refusals that teach: an Office container (an Excel workbook: a zip with
 * `xl/` parts; an OpenDocument spreadsheet: a zip whose first entry is its
 * `mimetype`; an OLE2 compound file, .xls; another zip), and under a text
 * format's key (`.csv`, `.json`…) a PDF, an HTML page, a gzip file without
 * `.gz` or any other binary (NUL bytes). Each refusal names what the file is
 * and what to send instead, rather than reading it as a one-column table of
 * garbage or failing on its "third field". Shared by every format: the XLSX
 * format reads containers, the text formats refuse them (containerRefusal).
 */
import { AppError } from "../errors";

export type SniffedKind = "pdf" | "html" | "zip" | "gzip" | "binary";

export interface Sniffed {
  kind: SniffedKind;
  /** What it is, for the message ("a PDF document"). */
  what: string;
}

// Bytes looked at: magic numbers are at the start; NUL bytes in a text file's first 8 KiB never are.
const NUL_WINDOW = 8 * 1024;
const HTML_START = /^<(?:!doctype\s+html|html|head|body)[\s>]/i;

const startsWith = (b: Uint8Array, magic: readonly number[], at = 0) =>
  b.length >= at + magic.length && magic.every((m, i) => b[at + i] === m);

export type Container = "workbook" | "ods" | "ole2" | "zip";

const OLE2 = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const ODS_MIMETYPE = "mimetypeapplication/vnd.oasis.opendocument.spreadsheet";

/** Which Office container the first bytes of a file are, if any. */
export function sniffContainer(sample: Uint8Array): Container | null {
  if (startsWith(sample, OLE2)) return "ole2";
  if (!startsWith(sample, [0x50, 0x4b, 0x03, 0x04])) return null;
  // Entry names are ASCII: a Latin-1 view of the sample finds them without decoding.
  const head = new TextDecoder("latin1").decode(sample.subarray(0, 30 + ODS_MIMETYPE.length));
  if (head.slice(30).startsWith(ODS_MIMETYPE)) return "ods";
  const text = new TextDecoder("latin1").decode(sample);
  if (text.includes("xl/workbook.") || text.includes("xl/worksheets/")) return "workbook";
  return "zip";
}

const CONVERT = "save it as .xlsx (Excel Workbook) or .csv and upload that";

/** A workbook format the connector does not read: `.xls` (OLE2/BIFF8), `.xlsb`, `.ods`. */
export function unsupportedWorkbook(kind: "ole2" | "ods" | "xlsb", file: string): AppError {
  const what =
    kind === "ole2"
      ? "an Excel 97-2003 binary workbook (OLE2/BIFF8)"
      : kind === "ods"
        ? "an OpenDocument spreadsheet"
        : "an Excel binary workbook (.xlsb)";
  return new AppError(
    "FORMAT_UNSUPPORTED",
    `${file}: this is ${what}; ${CONVERT}. The connector reads .xlsx/.xlsm workbooks, CSV and JSON.`,
  );
}

const REFUSED_EXTENSIONS = new Map<string, "ole2" | "ods" | "xlsb">([
  ["xls", "ole2"],
  ["xlt", "ole2"],
  ["ods", "ods"],
  ["ots", "ods"],
  ["xlsb", "xlsb"],
]);

/** For a key of a workbook the connector does not read (`.xls`, `.xlsb`, `.ods`): the refusal with a conversion hint, instead of "not a table". */
export function refusedWorkbookKey(key: string): AppError | null {
  const kind = REFUSED_EXTENSIONS.get(/\.([a-z]+)(?:\.gz)?$/i.exec(key)?.[1].toLowerCase() ?? "");
  return kind ? unsupportedWorkbook(kind, `"${key}"`) : null;
}

/**
 * For formats that read text (CSV, JSON): the refusal for a file whose bytes
 * are an Office container or a zip, or null when they are not.
 */
export function containerRefusal(sample: Uint8Array, kind: string): AppError | null {
  const found = sniffContainer(sample);
  if (found === null) return null;
  if (found === "ole2" || found === "ods") return unsupportedWorkbook(found, `The file is not ${kind}`);
  if (found === "workbook") {
    return new AppError(
      "FILE_FORMAT_MISMATCH",
      `The file is not ${kind}: this is an Excel workbook; upload it as .xlsx (rename it to .xlsx, or save the sheet as CSV UTF-8).`,
    );
  }
  return new AppError(
    "FILE_FORMAT_MISMATCH",
    `The file is not ${kind}: this is a zip archive. Unpack it and upload the table inside (.csv, .json or .xlsx).`,
  );
}

/** What the first bytes of a file are, when clearly not a text table; null when they may be one. */
export function sniffContent(sample: Uint8Array): Sniffed | null {
  // Workbooks, .xls/.ods and other zips are told apart by sniffContainer (the CSV and JSON formats' detect refuses them).
  if (sniffContainer(sample) !== null) return null;
  if (startsWith(sample, [0x25, 0x50, 0x44, 0x46, 0x2d])) return { kind: "pdf", what: "a PDF document" }; // %PDF-
  if (
    startsWith(sample, [0x50, 0x4b]) &&
    (startsWith(sample, [3, 4], 2) || startsWith(sample, [5, 6], 2) || startsWith(sample, [7, 8], 2))
  ) {
    return { kind: "zip", what: "a zip archive" };
  }
  if (startsWith(sample, [0x1f, 0x8b])) return { kind: "gzip", what: "a gzip-compressed file" };
  // UTF-16 text has NUL bytes by nature: its BOM leaves it to the text decoder.
  const utf16 = startsWith(sample, [0xff, 0xfe]) || startsWith(sample, [0xfe, 0xff]);
  if (!utf16 && sample.subarray(0, NUL_WINDOW).includes(0))
    return { kind: "binary", what: "a binary file (it holds NUL bytes, which no text table has)" };
  let at = startsWith(sample, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (at < sample.length && at < 1024 && (sample[at] === 0x20 || sample[at] === 0x09 || sample[at] === 0x0a || sample[at] === 0x0d))
    at++;
  if (HTML_START.test(String.fromCharCode(...sample.subarray(at, at + 32)))) return { kind: "html", what: "an HTML page" };
  return null;
}

const INSTEAD = "save the table as CSV UTF-8 (Excel: File → Save As → CSV UTF-8) or as an Excel workbook (.xlsx) and upload that";

/** The refusal for a sniffed file read as `formatName` (`CSV`, `JSON`) under the table `code`. */
export function notATable(sniffed: Sniffed, formatName: string, code: string): AppError {
  const how =
    sniffed.kind === "gzip"
      ? `if it is a compressed ${formatName} file, name it with .gz at the end (e.g. sales.csv.gz); otherwise ${INSTEAD}`
      : sniffed.kind === "html"
        ? `it is usually a web page saved or downloaded instead of the file (a sign-in or preview page): download the file itself, or ${INSTEAD}`
        : sniffed.kind === "pdf"
          ? `a PDF report holds no table the connector can read: ${INSTEAD}`
          : INSTEAD;
  return new AppError("FILE_NOT_TABLE", `The file behind table "${code}" is ${sniffed.what}, not a ${formatName} file: ${how}.`);
}
