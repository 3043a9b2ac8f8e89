/**
 * What a workbook is made of, from its small parts: [Content_Types].xml (the
 * workbook part, xlsx or xlsm), the workbook (sheet names, the 1904 date
 * system), its relationships (sheet → part) and styles (which cell styles
 * show dates). Plain data: it is kept in the table's description and used by
 * every later read of the same version.
 */
import { AppError } from "../../errors";
import type { FileAccess } from "../../model";
import { builtinKind, formatKind, type NumberKind } from "./cells";
import { readXml } from "./xml";
import { malformed, partBytes, type Zip, type ZipPart } from "./zip";

/** Metadata parts are a few KB; styles of a heavily formatted workbook a few MB. */
const MAX_META_BYTES = 32 * 1024 * 1024;

export interface Workbook {
  sheets: string[];
  /** The chosen sheet's name and part. */
  sheet: string;
  sheetPart: string;
  sharedStringsPart: string | null;
  date1904: boolean;
  /** Per cell style (`s`), how it shows a number. */
  styleKinds: NumberKind[];
}

const WORKBOOK_TYPES =
  /^application\/vnd\.(?:openxmlformats-officedocument\.spreadsheetml\.(?:sheet|template)|ms-excel\.(?:sheet|template)\.macroenabled)\.main\+xml$/i;
const BINARY_WORKBOOK = /^application\/vnd\.ms-excel\.sheet\.binary\.macroenabled\.main$/i;

export function partOf(zip: Zip, name: string): ZipPart | undefined {
  return zip.parts.get(name.replace(/^\//, "").toLowerCase());
}

function requirePart(zip: Zip, name: string, what: string): ZipPart {
  const part = partOf(zip, name);
  if (!part) throw malformed(`${what} ${name} is missing from the zip`);
  return part;
}

/** The part a relationship target names, relative to the part that holds the relationship. */
function resolveTarget(from: string, target: string): string {
  if (target.startsWith("/")) return target.slice(1);
  const parts = from.split("/").slice(0, -1);
  for (const seg of target.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== "." && seg !== "") parts.push(seg);
  }
  return parts.join("/");
}

const isTrue = (v: string | undefined) => v === "1" || v === "true";

async function workbookPartName(access: FileAccess, zip: Zip): Promise<string> {
  const types = partOf(zip, "[Content_Types].xml");
  if (!types) throw malformed("it has no [Content_Types].xml, so it is no Office Open XML workbook");
  let found: string | null = null;
  let binary = false;
  await readXml(partBytes(access, types, MAX_META_BYTES), types.name, {
    open(name, a) {
      if (name !== "Override" || !a.ContentType) return;
      if (WORKBOOK_TYPES.test(a.ContentType)) found ??= a.PartName;
      else if (BINARY_WORKBOOK.test(a.ContentType)) binary = true;
    },
  });
  if (found) return (found as string).replace(/^\//, "");
  if (binary)
    throw new AppError(
      "FORMAT_UNSUPPORTED",
      "this is an Excel binary workbook (.xlsb); save it as .xlsx (Excel Workbook) or .csv and upload that.",
    );
  throw malformed("its [Content_Types].xml names no spreadsheet workbook (is it a Word or PowerPoint file?)");
}

async function readStyles(access: FileAccess, part: ZipPart | undefined): Promise<NumberKind[]> {
  if (!part) return [];
  const formats = new Map<number, NumberKind>();
  const kinds: NumberKind[] = [];
  let inCellXfs = false;
  await readXml(partBytes(access, part, MAX_META_BYTES), part.name, {
    open(name, a) {
      if (name === "numFmt") formats.set(Number(a.numFmtId), formatKind(a.formatCode ?? ""));
      else if (name === "cellXfs") inCellXfs = true;
      else if (name === "xf" && inCellXfs) {
        const id = Number(a.numFmtId ?? 0);
        kinds.push(formats.get(id) ?? builtinKind(id));
      }
    },
    close(name) {
      if (name === "cellXfs") inCellXfs = false;
    },
  });
  return kinds;
}

/** Reads the workbook's structure and picks the sheet (`wanted` by name, else the first). */
export async function readWorkbook(access: FileAccess, zip: Zip, wanted: string | undefined): Promise<Workbook> {
  const bookName = await workbookPartName(access, zip);
  const book = requirePart(zip, bookName, "its workbook part");
  const sheets: { name: string; rid: string }[] = [];
  let date1904 = false;
  await readXml(partBytes(access, book, MAX_META_BYTES), book.name, {
    open(name, a) {
      if (name === "workbookPr") date1904 = isTrue(a.date1904);
      else if (name === "sheet") {
        const rid = Object.entries(a).find(([k]) => k.endsWith(":id"))?.[1];
        if (a.name !== undefined && rid !== undefined) sheets.push({ name: a.name, rid });
      }
    },
  });
  if (sheets.length === 0) throw malformed("its workbook lists no sheets");
  const names = sheets.map((s) => s.name);
  let chosen = sheets[0];
  if (wanted !== undefined) {
    const match = sheets.find((s) => s.name === wanted) ?? sheets.find((s) => s.name.toLowerCase() === wanted.trim().toLowerCase());
    if (!match) {
      throw new AppError(
        "SCHEMA_INVALID",
        `The declared schema names the sheet "${wanted}", which the workbook does not have (its sheets are: ${names.map((n) => `"${n}"`).join(", ")}). Fix \`sheet\` in the sidecar or delete it (then the first sheet is read).`,
      );
    }
    chosen = match;
  }

  const relsName = resolveTarget(bookName, `_rels/${bookName.split("/").pop()}.rels`);
  const rels = requirePart(zip, relsName, "its workbook relationships");
  const targets = new Map<string, { target: string; type: string; external: boolean }>();
  await readXml(partBytes(access, rels, MAX_META_BYTES), rels.name, {
    open(name, a) {
      if (name === "Relationship" && a.Id && a.Target)
        targets.set(a.Id, { target: a.Target, type: a.Type ?? "", external: a.TargetMode === "External" });
    },
  });
  const rel = targets.get(chosen.rid);
  if (!rel || rel.external) throw malformed(`its sheet "${chosen.name}" has no part (relationship ${chosen.rid})`);
  if (/\/chartsheet$/.test(rel.type))
    throw new AppError(
      "SCHEMA_INVALID",
      `The sheet "${chosen.name}" is a chart sheet: it has no cells. Name a worksheet in the sidecar's \`sheet\` (the sheets are: ${names.map((n) => `"${n}"`).join(", ")}).`,
    );
  const sheetPart = requirePart(zip, resolveTarget(bookName, rel.target), `its sheet "${chosen.name}"`);
  let sharedStringsPart: string | null = null;
  let stylesPart: ZipPart | undefined;
  for (const r of targets.values()) {
    if (r.external) continue;
    if (/\/sharedStrings$/.test(r.type)) sharedStringsPart = resolveTarget(bookName, r.target);
    else if (/\/styles$/.test(r.type)) stylesPart = partOf(zip, resolveTarget(bookName, r.target));
  }
  return {
    sheets: names,
    sheet: chosen.name,
    sheetPart: sheetPart.name,
    sharedStringsPart: sharedStringsPart && partOf(zip, sharedStringsPart) ? sharedStringsPart : null,
    date1904,
    styleKinds: await readStyles(access, stylesPart),
  };
}
