/**
 * A whole-file check for uploads: every record is read (so malformed records
 * and bad bytes anywhere are found), and cells that do not fit their column's
 * type are counted: they would be served as null, which the uploader should
 * know about before the dashboard shows gaps.
 */
import { tableRows, type FooterDropped } from "../formats/rows";
import type { Bytes } from "../streams/bytes";
import { convertersFor } from "./pipeline";
import type { Column, Description, FileAccess } from "../model";

export interface Inspection {
  rows: number;
  /** What the footer rule dropped at the end of the file (positional tables; formats/layout.ts). */
  footer: FooterDropped | null;
  /** Per column with misfits: how many, and the first one. */
  misfits: { code: string; type: string; count: number; firstRecord: number; firstValue: string }[];
}

export async function inspectRows(description: Description, bytes: Bytes, access?: FileAccess): Promise<Inspection> {
  const convert = convertersFor(description);
  const misfits = description.columns.map(() => ({ count: 0, firstRecord: 0, firstValue: "" }));
  let rows = 0;
  // Record numbers as people count them: the header is record 1 when there is one (row N below title rows).
  const offset = description.header === null ? 0 : (description.layout?.headerRow ?? 1);
  let footer: FooterDropped | null = null;
  // As an upload: a file that looks cut off is refused (formats decide what that looks like).
  for await (const batch of tableRows(bytes, description, { access, upload: true, onFooter: (dropped) => (footer = dropped) })) {
    for (const row of batch) {
      rows++;
      for (let i = 0; i < row.length; i++) {
        const text = row[i];
        if (text === null || text.trim() === "" || convert[i](text) !== null) continue;
        const m = misfits[i];
        if (m.count++ === 0) {
          m.firstRecord = rows + offset;
          m.firstValue = text.slice(0, 100);
        }
      }
    }
  }
  return {
    rows,
    footer,
    misfits: description.columns.flatMap((c, i) => (misfits[i].count > 0 ? [{ code: c.code, type: c.type, ...misfits[i] }] : [])),
  };
}

export interface SchemaChange {
  added: string[];
  removed: string[];
  retyped: { code: string; from: string; to: string }[];
}

export function schemaChange(before: readonly Column[] | null, after: readonly Column[]): SchemaChange | null {
  if (before === null) return null;
  const change: SchemaChange = {
    added: after.filter((c) => !before.some((b) => b.code === c.code)).map((c) => c.code),
    removed: before.filter((b) => !after.some((c) => c.code === b.code)).map((b) => b.code),
    retyped: after.flatMap((c) => {
      const b = before.find((x) => x.code === c.code);
      return b && b.type !== c.type ? [{ code: c.code, from: b.type, to: c.type }] : [];
    }),
  };
  return change.added.length + change.removed.length + change.retyped.length > 0 ? change : null;
}
