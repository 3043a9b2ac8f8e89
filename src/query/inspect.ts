/**
 * A whole-file check for uploads: every record is read (so malformed records
 * and bad bytes anywhere are found), and column types are decided from EVERY
 * value, not only the description's first rows: per column the evidence of
 * inference (catalog/infer.ts, which types every value so far fits) is kept
 * during the one pass, and decided at the end. A column that turns out not
 * to be int after row 10,000 becomes double or string (`widened`), never
 * silently null. A declared type (sidecar) wins and is not widened: values
 * that do not fit it are counted (they are served as null), which the
 * uploader should know before the dashboard shows gaps.
 */
import { declaredTypeColumns } from "../catalog/describe";
import { decideTypes, Guess, type NumberContext } from "../catalog/infer";
import { type FooterDropped, tableRows } from "../formats/rows";
import type { Column, Description, FileAccess, RecordReader, Sidecar } from "../model";
import type { Bytes } from "../streams/bytes";
import { CharsetEvidence, type EncodingChoice } from "../values/charset";
import { convertersFor } from "./pipeline";

export interface Misfits {
  code: string;
  type: string;
  count: number;
  firstRecord: number;
  firstValue: string;
}

export interface Widening {
  code: string;
  /** The type the first rows gave, and the one every value fits. */
  from: string;
  to: string;
  /** The first value that did not fit `from`. */
  firstRecord: number;
  firstValue: string;
}

export interface Inspection {
  rows: number;
  /** What the footer rule dropped at the end of the file (positional tables; formats/report-layout.ts). */
  footer: FooterDropped | null;
  /** The columns with their types decided over the whole file (declared types kept). */
  columns: Column[];
  /** Per column, the first non-empty value (at most 100 characters), null when it has none. */
  examples: (string | null)[];
  /** Per column with misfits (declared types only): how many, and the first one. */
  misfits: Misfits[];
  /** Inferred columns whose type the rest of the file made wider. */
  widened: Widening[];
  /** The encoding the whole file's evidence clearly shows, when the first MiB's guess was another. */
  wholeFileEncoding?: string;
}

const typeName = (c: Pick<Column, "type" | "slashOrder">) =>
  c.type === "date" || c.type === "datetime" ? `${c.type} (${c.slashOrder === "dmy" ? "day" : "month"} first)` : c.type;

export interface InspectOptions {
  /** The columns whose type a sidecar declares (they are not re-inferred). */
  declaredTypes?: ReadonlySet<number>;
  /** The sidecar declares the date order. */
  declaredOrder?: boolean;
  /** The sidecar's decimal separator, if any (numbers are decided as in catalog/infer.ts). */
  declaredDecimal?: "." | ",";
  /** This read's random access (XLSX). */
  access?: FileAccess;
  /** Hears the reader of a decision the read made (see ReadOptions.onDecided). */
  onDecided?: (reader: RecordReader) => void;
}

export async function inspectRows(description: Description, bytes: Bytes, options: InspectOptions = {}): Promise<Inspection> {
  const fixed = options.declaredTypes ?? new Set<number>();
  const { columns, decimalComma } = description;
  const convert = convertersFor(description);
  const guesses = columns.map(() => new Guess());
  const misfits = columns.map(() => ({ count: 0, firstRecord: 0, firstValue: "" }));
  const changed = columns.map(() => ({ at: 0, value: "" }));
  const examples: (string | null)[] = columns.map(() => null);
  let rows = 0;
  const numbers: NumberContext = { decimalComma, ...(options.declaredDecimal ? { declared: options.declaredDecimal } : {}) };
  // Record numbers as people count them: the header is record 1 when there is one (row N below title rows).
  const offset = description.header === null ? 0 : (description.layout?.headerRow ?? 1);
  let footer: FooterDropped | null = null;
  const inferred = columns.map((_, i) => !fixed.has(i));
  // A column every value so far fits only as text learns nothing more: it is not observed again.
  const settled = columns.map(() => false);
  // As an upload: a file that looks cut off is refused (formats decide what that looks like).
  for await (const batch of tableRows(bytes, description, {
    access: options.access,
    upload: true,
    onDecided: options.onDecided,
    onFooter: (dropped) => (footer = dropped),
  })) {
    for (const row of batch) {
      rows++;
      for (let i = 0; i < row.length; i++) {
        const text = row[i];
        if (text === null || text === "") continue;
        if (examples[i] === null && text.trim() !== "") examples[i] = text.slice(0, 100);
        if (inferred[i]) {
          if (settled[i]) continue;
          const g = guesses[i];
          const before = g.state();
          g.observe(text);
          if (g.state() === before) continue;
          if (g.settled()) settled[i] = true;
          // The first value after which the whole-file type is no longer the described one (judged on the column alone).
          if (changed[i].at === 0) {
            const now = decideTypes([g], numbers)[0];
            const c = columns[i];
            if (now.type !== c.type || ((c.type === "date" || c.type === "datetime") && now.slashOrder !== c.slashOrder)) {
              changed[i] = { at: rows + offset, value: text.slice(0, 100) };
            }
          }
          continue;
        }
        if (text.trim() === "" || convert[i](text) !== null) continue;
        const m = misfits[i];
        if (m.count++ === 0) {
          m.firstRecord = rows + offset;
          m.firstValue = text.slice(0, 100);
        }
      }
    }
  }
  // Columns with no value at all keep what the description said (a sidecar may name their type).
  const whole = decideTypes(guesses, numbers);
  const decided = columns.map((c, i): Column => {
    if (fixed.has(i) || guesses[i].seen === 0) return c;
    const r = whole[i];
    return { ...c, type: r.type, slashOrder: options.declaredOrder ? c.slashOrder : r.slashOrder, numberFormat: r.numberFormat };
  });
  const widened = decided.flatMap((c, i): Widening[] => {
    const was = columns[i];
    if (fixed.has(i) || typeName(c) === typeName(was)) return [];
    return [{ code: c.code, from: typeName(was), to: typeName(c), firstRecord: changed[i].at, firstValue: changed[i].value }];
  });
  return {
    rows,
    footer,
    columns: decided,
    examples,
    misfits: columns.flatMap((c, i) => (misfits[i].count > 0 ? [{ code: c.code, type: c.type, ...misfits[i] }] : [])),
    widened,
  };
}

/**
 * An upload's whole pass: every record of `bytes` (the stream its prefix
 * description was made from) checked, types decided from every value
 * (declared ones, and a declared main date column, kept). The description
 * that comes back has those types; its reader has made every decision the
 * file left open (an encoding still open after an ASCII prefix).
 */
export async function inspectUpload(
  prefix: Description,
  bytes: Bytes,
  declared: Sidecar | undefined,
  access?: FileAccess,
): Promise<{ description: Description; inspection: Inspection }> {
  const declaredTypes = declaredTypeColumns(prefix, declared);
  // The declared main date column stays a date column: its odd values are counted, not made text.
  if (prefix.dateColumn !== undefined) declaredTypes.add(prefix.dateColumn);
  // An encoding guessed from the first MiB is checked against the whole file's evidence.
  const guessed = encodingOf(prefix);
  const evidence = guessed?.how === "guessed" ? new CharsetEvidence() : null;
  // A decision the whole read made (an encoding left open by an ASCII prefix) is the stored description's.
  let reader = prefix.reader;
  const onDecided = (decided: RecordReader) => void (reader = decided);
  const inspection = await inspectRows(prefix, evidence ? feeding(bytes, evidence) : bytes, {
    declaredTypes,
    declaredOrder: declared?.dateFormat !== undefined,
    declaredDecimal: declared?.decimalSeparator,
    access,
    onDecided,
  });
  if (evidence && guessed) {
    const whole = evidence.result(true);
    if (whole.how === "detected" && whole.encoding !== guessed.encoding) inspection.wholeFileEncoding = whole.encoding;
  }
  return { description: { ...prefix, reader, columns: inspection.columns }, inspection };
}

const encodingOf = (d: Description) => (d.reader.decisions?.() as { encoding?: EncodingChoice } | undefined)?.encoding;

async function* feeding(bytes: Bytes, evidence: CharsetEvidence): Bytes {
  try {
    for await (const chunk of bytes) {
      evidence.push(chunk);
      yield chunk;
    }
  } finally {
    await bytes.return(undefined);
  }
}

/** What an upload understood of a file, for its answer and `npm run upload -- --check`. */
export interface Understood {
  encoding?: { name: string; guessed: boolean; how: string; alternative?: string };
  dialect?: unknown;
  /** 1-based row of the header (null: JSON objects have none), and the title/blank rows above it. */
  headerRow: number | null;
  skippedRows: unknown[];
  columns: { code: string; name: string; type: string; example: string | null; misfits: number }[];
  widened: Widening[];
  misfits: Misfits[];
  /** See Inspection.wholeFileEncoding. */
  wholeFileEncoding?: string;
}

export function understood(description: Description, inspection: Inspection): Understood {
  const decisions = description.reader.decisions?.() ?? {};
  const encoding = (decisions as { encoding?: EncodingChoice }).encoding;
  const { layout } = description;
  return {
    ...(encoding
      ? {
          encoding: {
            name: encoding.encoding,
            guessed: encoding.how === "guessed",
            how: encoding.how,
            ...(encoding.how === "guessed" && encoding.alternative ? { alternative: encoding.alternative } : {}),
          },
        }
      : {}),
    ...("dialect" in decisions ? { dialect: decisions.dialect } : {}),
    headerRow: layout?.headerRow ?? (description.header === null ? null : 1),
    skippedRows: layout?.skippedRows ?? [],
    columns: description.columns.map((c, i) => ({
      code: c.code,
      name: c.name,
      type: c.type,
      example: inspection.examples[i],
      misfits: inspection.misfits.find((m) => m.code === c.code)?.count ?? 0,
    })),
    widened: inspection.widened,
    misfits: inspection.misfits,
    ...(inspection.wholeFileEncoding ? { wholeFileEncoding: inspection.wholeFileEncoding } : {}),
  };
}

/** The notes an upload answer (and the upload CLI) gives about what it understood. */
export function understoodNotes(u: Understood, key: string): string[] {
  const notes: string[] = [];
  if (u.encoding?.guessed && u.wholeFileEncoding) {
    notes.push(
      `The encoding was guessed as ${u.encoding.name} from the first MiB, but the whole file reads as ${u.wholeFileEncoding}: upload a sidecar ${key}.schema.json with {"encoding": "${u.wholeFileEncoding}"}, then the file again.`,
    );
  } else if (u.encoding?.guessed) {
    notes.push(
      `The encoding was guessed as ${u.encoding.name} from little evidence${u.encoding.alternative ? ` (next best: ${u.encoding.alternative})` : ""}: check the text, and if it is wrong, upload a sidecar ${key}.schema.json with {"encoding": "<the right one>"}.`,
    );
  }
  for (const w of u.widened) {
    notes.push(
      `${w.code} is ${w.to}: its first rows are ${w.from}, but record ${w.firstRecord} ("${w.firstValue}") is not. Declare its type in the sidecar if ${w.from} was meant.`,
    );
  }
  for (const m of u.misfits) {
    notes.push(
      `${m.count} value(s) in ${m.code} are not ${m.type} and will be served as empty (first: record ${m.firstRecord}, "${m.firstValue}").`,
    );
  }
  return notes;
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
