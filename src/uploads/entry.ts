/**
 * The table code a key has, or will have once uploaded or restored: a new
 * key never takes another table's code.
 */
import { listTables } from "../catalog/catalog";
import type { Config, Env } from "../config/config";
import { AppError } from "../errors";
import type { TableEntry } from "../model";
import { assignTableCodes, tableKeyInfo, tableTitle } from "../rules/naming";

/** The first key that adding `key` would give another table's code, with both codes. */
function codeTakenFrom(keys: string[], key: string, reserved: Set<string>): { other: string; code: string; becomes: string } | null {
  const before = assignTableCodes(keys, reserved);
  const after = assignTableCodes([...keys, key], reserved);
  for (const other of keys) {
    if (before.get(other) !== after.get(other)) return { other, code: before.get(other)!, becomes: after.get(other)! };
  }
  return null;
}

/**
 * The table entry a key has, or will have once uploaded (`verb` says how:
 * "Uploading", "Restoring"). A new key must not change any existing table's
 * code: the lexicographically first key keeps a plain code, so `Sales.csv`
 * would take `sales` from `sales.csv` and the portal's dataset on `sales`
 * would silently read the other file. That is refused with 409.
 */
export async function entryFor(env: Env, config: Config, key: string, verb = "Uploading"): Promise<TableEntry> {
  const tables = await listTables(env, config);
  const existing = tables.find((t) => t.source.kind === "r2" && t.source.key === key);
  if (existing) return existing;
  const keys = tables.flatMap((t) => (t.source.kind === "r2" ? [t.source.key] : []));
  const reserved = new Set(config.urlTables.map((t) => t.code));
  const taken = codeTakenFrom(keys, key, reserved);
  if (taken) {
    let suggestion = "";
    for (let n = 2; n < 100 && !suggestion; n++) {
      const candidate = key.replace(/(\.[a-z]+)(\.gz)?$/i, `_${n}$1$2`);
      if (!keys.includes(candidate) && !codeTakenFrom(keys, candidate, reserved)) suggestion = candidate;
    }
    throw new AppError(
      "TABLE_CODE_TAKEN",
      `${verb} "${key}" would take the table code "${taken.code}" from "${taken.other}" (which would become "${taken.becomes}"), and whatever the portal built on "${taken.code}" would read the other file. Nothing was changed. Choose another name for the file (its table code is the key in lower case with other characters as "_", without the extension)${suggestion ? `, e.g. "${suggestion}"` : ""}, or delete "${taken.other}" first.`,
    );
  }
  const code = assignTableCodes([...keys, key], reserved).get(key)!;
  return { code, title: tableTitle(key), source: { kind: "r2", key, ...tableKeyInfo(key)! } };
}
