/**
 * Test-only zip and workbook builders: well-formed workbooks from a table of
 * cells (the conformance suite), and hostile zips (lying sizes, huge
 * directories, DOCTYPEs, cut files). Real producers' files are the corpus in
 * test/fixtures/exports/; these are for what no producer writes.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export interface ZipInput {
  name: string;
  data: Uint8Array | string;
  /** Deflate (default) or store. */
  store?: boolean;
  /** Lie in the directory: this inflated size instead of the real one. */
  declaredSize?: number;
}

const enc = new TextEncoder();

export async function buildZip(entries: ZipInput[], options: { extraDirectoryEntries?: number } = {}): Promise<Uint8Array> {
  const locals: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const push16 = (v: DataView, at: number, x: number) => v.setUint16(at, x, true);
  const push32 = (v: DataView, at: number, x: number) => v.setUint32(at, x >>> 0, true);
  const dir = (name: Uint8Array, method: number, crc: number, csize: number, usize: number, at: number) => {
    const cd = new Uint8Array(46 + name.length);
    const c = new DataView(cd.buffer);
    push32(c, 0, 0x02014b50);
    push16(c, 4, 20);
    push16(c, 6, 20);
    push16(c, 10, method);
    push32(c, 16, crc);
    push32(c, 20, csize);
    push32(c, 24, usize);
    push16(c, 28, name.length);
    push32(c, 42, at);
    cd.set(name, 46);
    return cd;
  };
  for (const e of entries) {
    const raw = typeof e.data === "string" ? enc.encode(e.data) : e.data;
    const body = e.store ? raw : await deflateRaw(raw);
    const method = e.store ? 0 : 8;
    const name = enc.encode(e.name);
    const crc = crc32(raw);
    const size = e.declaredSize ?? raw.length;
    const local = new Uint8Array(30 + name.length);
    const l = new DataView(local.buffer);
    push32(l, 0, 0x04034b50);
    push16(l, 4, 20);
    push16(l, 8, method);
    push32(l, 14, crc);
    push32(l, 18, body.length);
    push32(l, 22, size);
    push16(l, 26, name.length);
    local.set(name, 30);
    locals.push(local, body);
    central.push(dir(name, method, crc, body.length, size, offset));
    offset += local.length + body.length;
  }
  for (let i = 0; i < (options.extraDirectoryEntries ?? 0); i++) central.push(dir(enc.encode(`x/${i}`), 0, 0, 0, 0, 0));
  const cdSize = central.reduce((n, c) => n + c.length, 0);
  const eocd = new Uint8Array(22);
  const v = new DataView(eocd.buffer);
  push32(v, 0, 0x06054b50);
  push16(v, 8, Math.min(central.length, 0xffff));
  push16(v, 10, Math.min(central.length, 0xffff));
  push32(v, 12, cdSize);
  push32(v, 16, offset);
  const all = [...locals, ...central, eocd];
  const out = new Uint8Array(all.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of all) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const NS =
  'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';
const REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

export interface Sheet {
  name: string;
  /** The <sheetData> content. */
  rows: string;
}

/** A minimal workbook as Excel lays it out; `parts` adds or replaces parts (by name). */
export async function buildXlsx(
  sheets: Sheet[],
  options: { sharedStrings?: string[]; styles?: string; date1904?: boolean; parts?: ZipInput[]; macro?: boolean } = {},
): Promise<Uint8Array> {
  const main = options.macro
    ? "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml";
  const types =
    `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
    `<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="${main}"/>` +
    sheets
      .map(
        (_, i) =>
          `<Override PartName="/xl/worksheets/sheet${i + 1}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`,
      )
      .join("") +
    `</Types>`;
  const workbook =
    `<?xml version="1.0" encoding="UTF-8"?><workbook ${NS}>${options.date1904 ? '<workbookPr date1904="1"/>' : ""}<sheets>` +
    sheets.map((s, i) => `<sheet name="${s.name}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join("") +
    `</sheets></workbook>`;
  const n = sheets.length;
  const rels =
    `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
    sheets.map((_, i) => `<Relationship Id="rId${i + 1}" Type="${REL}/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`).join("") +
    `<Relationship Id="rId${n + 1}" Type="${REL}/styles" Target="styles.xml"/>` +
    (options.sharedStrings ? `<Relationship Id="rId${n + 2}" Type="${REL}/sharedStrings" Target="/xl/sharedStrings.xml"/>` : "") +
    `</Relationships>`;
  const styles =
    options.styles ??
    `<?xml version="1.0" encoding="UTF-8"?><styleSheet ${NS}><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="22"/></cellXfs></styleSheet>`;
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const parts: ZipInput[] = [
    { name: "[Content_Types].xml", data: types },
    { name: "xl/workbook.xml", data: workbook },
    { name: "xl/_rels/workbook.xml.rels", data: rels },
    { name: "xl/styles.xml", data: styles },
    ...sheets.map((s, i) => ({
      name: `xl/worksheets/sheet${i + 1}.xml`,
      data: `<?xml version="1.0" encoding="UTF-8"?><worksheet ${NS}><sheetData>${s.rows}</sheetData></worksheet>`,
    })),
    ...(options.sharedStrings
      ? [
          {
            name: "xl/sharedStrings.xml",
            data: `<?xml version="1.0" encoding="UTF-8"?><sst ${NS}>${options.sharedStrings.map((t) => `<si><t xml:space="preserve">${esc(t)}</t></si>`).join("")}</sst>`,
          },
        ]
      : []),
  ];
  for (const p of options.parts ?? []) {
    const at = parts.findIndex((q) => q.name === p.name);
    if (at >= 0) parts[at] = p;
    else parts.push(p);
  }
  return buildZip(parts);
}

/** Days from 1899-12-30 (the 1900 system's serial for dates from 1900-03-01). */
export function serialOf(iso: string): number {
  const [d, t] = iso.split(" ");
  const days = (Date.parse(`${d}T00:00:00Z`) - Date.parse("1899-12-30T00:00:00Z")) / 86_400_000;
  if (!t) return days;
  const [h, m, s] = t.split(":").map(Number);
  return days + (h * 3600 + m * 60 + s) / 86400;
}

/**
 * A sheet of a text table (header first) as Excel would type it: numbers as
 * numbers, `Y-m-d` as date cells (style 1), `Y-m-d H:i:s` as datetime cells
 * (style 2), other text as inline strings; empty cells absent.
 */
export function typedRows(table: string[][]): string {
  const col = (i: number) => String.fromCharCode(65 + i);
  return table
    .map((row, r) => {
      const cells = row.map((v, i) => {
        const ref = `${col(i)}${r + 1}`;
        if (v === "") return "";
        if (r > 0 && /^-?\d+(\.\d+)?$/.test(v)) return `<c r="${ref}"><v>${v}</v></c>`;
        if (r > 0 && /^\d{4}-\d\d-\d\d$/.test(v)) return `<c r="${ref}" s="1"><v>${serialOf(v)}</v></c>`;
        if (r > 0 && /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(v)) return `<c r="${ref}" s="2"><v>${serialOf(v)}</v></c>`;
        return `<c r="${ref}" t="inlineStr"><is><t>${v.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</t></is></c>`;
      });
      return `<row r="${r + 1}">${cells.join("")}</row>`;
    })
    .join("");
}
