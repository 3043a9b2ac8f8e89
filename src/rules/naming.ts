/**
 * Naming rules shared by the Worker and the setup script: table codes from
 * object keys, field codes from column headers. The portal's own rules are
 * table `^[a-z][a-z0-9_]*$` (≤ 230) and field `^[A-Z][A-Z0-9_]*$` (≤ 32);
 * every code we produce already satisfies them, so a dataset field name,
 * its externalCode and our column code are one and the same string.
 */

import { FORMATS } from "../formats/registry";

export const TABLE_CODE_MAX = 230;
export const FIELD_CODE_MAX = 32;
export const TABLE_CODE_RE = /^[a-z][a-z0-9_]*$/;
export const FIELD_CODE_RE = /^[A-Z][A-Z0-9_]{0,31}$/;

/** Extensions that make an object a table (the formats' own, formats/registry.ts); `.gz` may follow any of them. */
const TABLE_KEY_RE = new RegExp(`\\.(${FORMATS.extensions.join("|")})(\\.gz)?$`, "i");

/**
 * A table's sidecar is `<table key>.schema.json`, the suffix in lower case:
 * R2 keys are case-sensitive, and the Worker reads exactly that key. These
 * functions are the one place sidecar keys are matched.
 */
export const SIDECAR_SUFFIX = ".schema.json";
const SIDECAR_ANY_CASE = /\.schema\.json$/i;

/** The sidecar key of a table key: `sales.csv` → `sales.csv.schema.json`. */
export const sidecarKey = (tableKey: string) => tableKey + SIDECAR_SUFFIX;

/** The table key a sidecar key belongs to (`sales.csv.schema.json` → `sales.csv`); null for any other key. */
export function sidecarTable(key: string): string | null {
  return key.endsWith(SIDECAR_SUFFIX) ? key.slice(0, -SIDECAR_SUFFIX.length) : null;
}

/** A key with the sidecar suffix in another case (`.Schema.json`): no sidecar the Worker reads, and no table either. */
export function miscasedSidecar(key: string): boolean {
  return SIDECAR_ANY_CASE.test(key) && sidecarTable(key) === null;
}

export interface TableKeyInfo {
  extension: string;
  gzip: boolean;
}

/** The content type a table file is stored with: its format's, or gzip's. */
export function storedContentType(info: TableKeyInfo): string {
  return info.gzip ? "application/gzip" : (FORMATS.formatOf(info.extension)?.contentType ?? "application/octet-stream");
}

/**
 * Whether an R2 key is a table, and of which kind. Sidecars and anything in
 * a dot-folder (`.versions/…`) are not tables.
 */
export function tableKeyInfo(key: string): TableKeyInfo | null {
  if (SIDECAR_ANY_CASE.test(key)) return null;
  if (key.split("/").some((part) => part.startsWith("."))) return null;
  const m = TABLE_KEY_RE.exec(key);
  if (!m) return null;
  return { extension: m[1].toLowerCase(), gzip: m[2] !== undefined };
}

// Russian, Ukrainian and Belarusian letters, as passport-style Latin (ISO 9 / ICAO-like).
const CYRILLIC: Record<string, string> = {
  а: "a",
  б: "b",
  в: "v",
  г: "g",
  д: "d",
  е: "e",
  ё: "e",
  ж: "zh",
  з: "z",
  и: "i",
  й: "y",
  к: "k",
  л: "l",
  м: "m",
  н: "n",
  о: "o",
  п: "p",
  р: "r",
  с: "s",
  т: "t",
  у: "u",
  ф: "f",
  х: "kh",
  ц: "ts",
  ч: "ch",
  ш: "sh",
  щ: "shch",
  ъ: "",
  ы: "y",
  ь: "",
  э: "e",
  ю: "yu",
  я: "ya",
  і: "i",
  ї: "yi",
  є: "ye",
  ґ: "g",
  ў: "u",
};

/** Latin-only lowercase text: Cyrillic transliterated, accents stripped. */
export function transliterate(text: string): string {
  let out = "";
  for (const ch of text.normalize("NFC").toLowerCase()) out += CYRILLIC[ch] ?? ch;
  return out
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
}

function slug(text: string): string {
  return transliterate(text)
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

/** The table code for an object key: `sales/2025.csv` → `sales_2025`. */
export function baseTableCode(key: string): string {
  const withoutExt = key.replace(/\.gz$/i, "").replace(/\.[a-z]+$/i, "");
  let code = slug(withoutExt);
  if (code === "") code = "table";
  if (!/^[a-z]/.test(code)) code = `t_${code}`;
  return code.slice(0, TABLE_CODE_MAX).replace(/_+$/, "");
}

/** FNV-1a, 32 bit: a short stable hash for collision suffixes. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0").slice(0, 6);
}

/**
 * Codes for a set of keys. On a collision the lexicographically first key
 * keeps the plain code (unless `reserved` holds it) and every other one gets `_<hash of its key>`, so a
 * table's code depends only on its own key and the key that won the plain code.
 */
export function assignTableCodes(keys: readonly string[], reserved: ReadonlySet<string> = new Set()): Map<string, string> {
  const byBase = new Map<string, string[]>();
  for (const key of keys) {
    const base = baseTableCode(key);
    const list = byBase.get(base);
    if (list) list.push(key);
    else byBase.set(base, [key]);
  }
  const taken = new Set([...byBase.keys(), ...reserved]);
  const codes = new Map<string, string>();
  for (const [base, group] of byBase) {
    group.sort();
    // A reserved code (a declared URL table) leaves no key the plain code.
    const plain = reserved.has(base) ? 0 : 1;
    if (plain) codes.set(group[0], base);
    for (const key of group.slice(plain)) {
      const suffix = `_${shortHash(key)}`;
      let code = base.slice(0, TABLE_CODE_MAX - suffix.length) + suffix;
      for (let n = 2; taken.has(code); n++) code = `${base.slice(0, TABLE_CODE_MAX - suffix.length - 3)}${suffix}_${n}`;
      taken.add(code);
      codes.set(key, code);
    }
  }
  return codes;
}

/** A field code from a header: `Дата продажи` → `DATA_PRODAZHI`. Not yet unique. */
export function baseFieldCode(header: string, position: number): string {
  let code = slug(header).toUpperCase();
  if (code === "") code = `COLUMN_${position + 1}`;
  if (!/^[A-Z]/.test(code)) code = `F_${code}`;
  return code.slice(0, FIELD_CODE_MAX).replace(/_+$/, "");
}

/** Unique, valid field codes for a header row, in order. */
export function assignFieldCodes(headers: readonly string[]): string[] {
  const used = new Set<string>();
  return headers.map((header, i) => {
    const base = baseFieldCode(header, i);
    let code = base;
    for (let n = 2; used.has(code); n++) {
      const suffix = `_${n}`;
      code = base.slice(0, FIELD_CODE_MAX - suffix.length) + suffix;
    }
    used.add(code);
    return code;
  });
}

/**
 * PHP treats "" and "0" as empty, and one empty title or column name makes the
 * portal reject the whole list: such text is replaced by `fallback`.
 */
export function phpNonEmpty(text: string, fallback: string): string {
  const t = text.trim();
  return t === "" || t === "0" ? fallback : t;
}

/** Title a person reads for a key: `sales/2025-q1.csv.gz` → `sales / 2025-q1`. */
export function tableTitle(key: string): string {
  const title = key
    .replace(/\.gz$/i, "")
    .replace(/\.[a-z]+$/i, "")
    .split("/")
    .join(" / ");
  return phpNonEmpty(title, key);
}
