/**
 * Text encodings a file may be declared in, and the one reading of a
 * declared label (sidecars, URL tables, the upload CLI). Bytes → text is in
 * formats/decode.ts.
 */

/** The encodings a file may be declared in (WHATWG names, as TextDecoder reports them). */
export const SUPPORTED_ENCODINGS = [
  "utf-8",
  "windows-1250",
  "windows-1251",
  "windows-1252",
  "windows-1253",
  "windows-1254",
  "windows-1255",
  "windows-1256",
  "windows-1257",
  "windows-1258",
  "windows-874",
  "iso-8859-2",
  "iso-8859-3",
  "iso-8859-4",
  "iso-8859-5",
  "iso-8859-6",
  "iso-8859-7",
  "iso-8859-8",
  "iso-8859-10",
  "iso-8859-13",
  "iso-8859-14",
  "iso-8859-15",
  "iso-8859-16",
  "koi8-r",
  "koi8-u",
  "ibm866",
  "macintosh",
  "x-mac-cyrillic",
] as const;
export type SupportedEncoding = (typeof SUPPORTED_ENCODINGS)[number];

const SUPPORTED = new Set<string>(SUPPORTED_ENCODINGS);
const ALIASES: Record<string, SupportedEncoding> = {
  utf8: "utf-8",
  "unicode-1-1-utf-8": "utf-8",
  unicode11utf8: "utf-8",
  unicode20utf8: "utf-8",
  "x-unicode20utf8": "utf-8",
  // WHATWG decodes Latin-1 and ASCII as Windows-1252 (a superset).
  latin1: "windows-1252",
  l1: "windows-1252",
  ascii: "windows-1252",
  "us-ascii": "windows-1252",
  "iso-8859-1": "windows-1252",
  "iso-8859-9": "windows-1254",
  "iso-8859-11": "windows-874",
  "iso-8859-8-i": "iso-8859-8",
  cp866: "ibm866",
  "866": "ibm866",
  csibm866: "ibm866",
  "ibm-866": "ibm866",
  koi8: "koi8-r",
  koi: "koi8-r",
  koi8_r: "koi8-r",
  "koi8-ru": "koi8-u",
  mac: "macintosh",
  "x-mac-roman": "macintosh",
  "x-mac-ukrainian": "x-mac-cyrillic",
  "tis-620": "windows-874",
};

/**
 * A declared encoding label in canonical form, or null when it is not
 * supported: case and spaces do not matter, and common spellings map to
 * their encoding (`UTF8` → utf-8, `CP1251`/`win-1251` → windows-1251,
 * `ISO8859-5` → iso-8859-5, `cp866` → ibm866).
 */
export function normalizeEncoding(label: string): SupportedEncoding | null {
  let l = label.trim().toLowerCase();
  l = l.replace(/^(?:windows|win|cp|x-cp|ms)[-_ ]?(125\d|874)$/, "windows-$1").replace(/^iso[-_ ]?8859[-_ ]?(\d+)$/, "iso-8859-$1");
  if (SUPPORTED.has(l)) return l as SupportedEncoding;
  return ALIASES[l] ?? null;
}

export function unsupportedEncoding(label: string): string {
  return `the encoding "${label}" is not supported; use one of ${SUPPORTED_ENCODINGS.join(", ")} (save UTF-16 files as UTF-8)`;
}
