/**
 * Which tables exist: every table object in the R2 bucket plus the URL tables
 * the operator declared. Codes are derived from keys (see naming.ts); a URL
 * table's declared code wins over an R2 object that would get the same one.
 */
import type { Config, Env } from "../config/config";
import { AppError } from "../errors";
import type { TableEntry } from "../model";
import { assignTableCodes, tableKeyInfo, tableTitle } from "../rules/naming";
import { listObjects } from "../streams/r2-list";

// Keys starting with "." are never tables, and `.versions/` may hold several
// objects per file: the listing jumps over that whole range. R2 orders keys by
// their UTF-8 bytes, so "." + U+10FFFF sorts after every key starting with ".".
const DOT_RANGE_END = ".\u{10FFFF}";

/** All R2 keys that are tables (non-empty objects with a table extension), following list pagination. */
async function listTableKeys(bucket: R2Bucket): Promise<string[]> {
  const keys: string[] = [];
  const take = (obj: R2Object) => {
    // An empty object cannot be described, and the portal would list a table
    // that fails when picked: it is left out (the listing carries the size, so
    // this costs no read). Malformed files stay listed; their description
    // answers 422 naming the problem (finding them would mean reading every file).
    if (obj.size > 0 && tableKeyInfo(obj.key)) keys.push(obj.key);
  };
  // The dot-folders (.compiled/ holds an object per row group) sort before digits and letters: when the
  // bucket's first key is one, no table sorts before them, and one key told it (a page would be 1,000).
  const peek = await bucket.list({ limit: 1 });
  let reachedDots = peek.objects[0]?.key.startsWith(".") ?? false;
  if (!reachedDots && peek.objects.length > 0) {
    for await (const obj of listObjects(bucket, { limit: 1000 })) {
      if (obj.key.startsWith(".")) {
        reachedDots = true;
        break;
      }
      take(obj);
    }
  }
  if (reachedDots) for await (const obj of listObjects(bucket, { startAfter: DOT_RANGE_END, limit: 1000 })) take(obj);
  return keys;
}

export async function listTables(env: Env, config: Config): Promise<TableEntry[]> {
  const keys = await listTableKeys(env.DATA);
  const reserved = new Set(config.urlTables.map((t) => t.code));
  const codes = assignTableCodes(keys, reserved);
  const entries: TableEntry[] = keys.map((key) => {
    const info = tableKeyInfo(key)!;
    return { code: codes.get(key)!, title: tableTitle(key), source: { kind: "r2", key, ...info } };
  });
  for (const table of config.urlTables) {
    entries.push({
      code: table.code,
      title: table.title,
      source: { kind: "url", table, extension: table.format, gzip: table.gzip ?? false },
    });
  }
  return entries.sort((a, b) => a.code.localeCompare(b.code));
}

export async function findTable(env: Env, config: Config, code: string): Promise<TableEntry> {
  const wanted = code.trim().toLowerCase();
  const entries = await listTables(env, config);
  const entry = entries.find((e) => e.code === wanted);
  if (!entry) {
    throw new AppError(
      "TABLE_NOT_FOUND",
      `There is no table "${code}". Call /table_list for the available codes (a file's table code is its key in lowercase with other characters as "_", without the extension).`,
    );
  }
  return entry;
}

export function searchTables(entries: TableEntry[], search: string | undefined): TableEntry[] {
  const needle = (search ?? "").trim().toLocaleLowerCase();
  if (needle === "") return entries;
  return entries.filter((e) => e.code.includes(needle) || e.title.toLocaleLowerCase().includes(needle));
}
