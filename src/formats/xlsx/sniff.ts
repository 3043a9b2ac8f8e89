/**
 * Office containers told by their first bytes, whatever the key's extension
 * (docs/design/xlsx-and-exports.md §9): an Excel workbook (a zip with `xl/`
 * parts), an OpenDocument spreadsheet (a zip whose first entry is its
 * `mimetype`), an OLE2 compound file (.xls), another zip. Each refusal names
 * what the file is and what to send instead.
 */
import { AppError } from "../../errors";

export type Container = "workbook" | "ods" | "ole2" | "zip";

const OLE2 = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const ODS_MIMETYPE = "mimetypeapplication/vnd.oasis.opendocument.spreadsheet";

const startsWith = (bytes: Uint8Array, magic: readonly number[]) => bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);

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
  return new AppError("FORMAT_UNSUPPORTED", `${file}: this is ${what}; ${CONVERT}. The connector reads .xlsx/.xlsm workbooks, CSV and JSON.`);
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
    return new AppError("FILE_FORMAT_MISMATCH", `The file is not ${kind}: this is an Excel workbook; upload it as .xlsx (rename it to .xlsx, or save the sheet as CSV UTF-8).`);
  }
  return new AppError("FILE_FORMAT_MISMATCH", `The file is not ${kind}: this is a zip archive. Unpack it and upload the table inside (.csv, .json or .xlsx).`);
}
