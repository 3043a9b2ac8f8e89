/**
 * XLSX and XLSM workbooks: the first sheet, or the one the sidecar's `sheet`
 * names. A zip needs random access, so the file is read with range reads of
 * one version (FileAccess) and never whole: the directory, the small parts
 * (workbook, relationships, styles), the shared strings into a packed table,
 * then the sheet streamed through a SAX parser, one record per sheet row.
 * Cells become the text CSV would hold (numbers, `Y-m-d`, `Y-m-d H:i:s`), so
 * types, filters and output are the shared pipeline's. Booleans are served
 * like JSON's: the strings "true" and "false". The macros of an .xlsm are
 * never read.
 */
import { AppError } from "../../errors";
import type { Bytes, FileAccess, Records } from "../../model";
import { fileAccess, type TableFormat } from "../format";
import { sniffContainer, unsupportedWorkbook } from "../sniff";
import { sheetRecords } from "./sheet";
import { readSharedStrings, type SharedStrings, STRINGS_XML_BYTES, stringsXmlTooLarge } from "./strings";
import { partOf, readWorkbook, type Workbook } from "./workbook";
import { malformed, openZip, partBytes, type Zip } from "./zip";

function needsAccess(): AppError {
  return new AppError(
    "XLSX_NEEDS_RANDOM_ACCESS",
    "An XLSX workbook is a zip archive and is read with range reads of the stored file: it can be a table in the bucket (upload it with PUT /files or put it into R2), not a URL table. Publish the sheet as CSV instead (Google Sheets: File → Share → Publish to web → Comma-separated values).",
  );
}

/**
 * The shared strings of one read, by that read's range-read function: a
 * request that describes and then reads the table (a first /data, an upload's
 * check) parses them once. Weak: the table goes with the request.
 */
const stringsOfRead = new WeakMap<FileAccess["read"], Promise<SharedStrings | null>>();

function sharedStrings(access: FileAccess, zip: Zip, book: Workbook): Promise<SharedStrings | null> {
  let strings = stringsOfRead.get(access.read);
  if (!strings) {
    const part = book.sharedStringsPart ? partOf(zip, book.sharedStringsPart) : undefined;
    if (part && part.size > STRINGS_XML_BYTES) return Promise.reject(stringsXmlTooLarge(part.name, part.size));
    strings = part ? readSharedStrings(partBytes(access, part, STRINGS_XML_BYTES), part.name) : Promise.resolve(null);
    stringsOfRead.set(access.read, strings);
    strings.catch(() => stringsOfRead.delete(access.read));
  }
  return strings;
}

async function* records(bytes: Bytes, access: FileAccess | undefined, book: Workbook): Records {
  await bytes.return(undefined); // read by range, not from the first byte
  if (!access) throw needsAccess();
  const zip = await openZip(access);
  const strings = await sharedStrings(access, zip, book);
  const sheet = partOf(zip, book.sheetPart);
  if (!sheet) throw malformed(`its sheet part ${book.sheetPart} is missing`);
  yield* sheetRecords(partBytes(access, sheet), { part: sheet.name, strings, styleKinds: book.styleKinds, date1904: book.date1904 });
}

export const xlsx: TableFormat = {
  name: "XLSX",
  extensions: ["xlsx", "xlsm"],
  contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  randomAccess: true,
  errors: [
    "FILE_EMPTY",
    "XLSX_MALFORMED",
    "XLSX_TOO_LARGE",
    "XLSX_NEEDS_RANDOM_ACCESS",
    "FORMAT_UNSUPPORTED",
    "SCHEMA_INVALID",
    "FILE_CHANGED",
  ],
  publishing: () => ({ kind: "XLSX", hint: "publish the sheet as CSV instead: a workbook is read from the bucket only" }),
  async detect(input, { sidecar }) {
    const found = sniffContainer(input.sample);
    if (found === "ole2" || found === "ods") throw unsupportedWorkbook(found, "The file is not an .xlsx workbook");
    if (found === null)
      throw malformed("it is not a zip archive (an .xlsx file starts with PK); was it saved as another format and renamed?");
    const access = fileAccess(input);
    if (!access) throw needsAccess();
    const book = await readWorkbook(access, await openZip(access), sidecar?.sheet);
    return {
      format: "XLSX",
      records: (bytes, _truncated, options) => records(bytes, options?.access, book),
      cellText: null,
      decimalComma: false,
      malformed: {
        code: "XLSX_MALFORMED",
        extraCells: "Check that sheet row for a value right of the last named column, or give that column a header.",
      },
    };
  },
};
