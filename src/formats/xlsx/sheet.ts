/**
 * A worksheet's rows as records, like CSV's: one array of cell text per
 * sheet row, with null for empty cells. Row positions are kept: a missing
 * row before a row with values comes as an empty array (header detection
 * counts title and empty rows above the header); empty rows at the end are
 * dropped. `r` is optional (ECMA-376): without it a cell is the next column
 * and a row the next row.
 */
import type { Bytes } from "../../model";
import { isoText, NumberKind, numberText, serialText, unescapeText } from "./cells";
import { RichText, type SharedStrings } from "./strings";
import { parseXml } from "./xml";
import { malformed } from "./zip";

/** Excel's grid. */
export const MAX_ROWS = 1_048_576;
export const MAX_COLUMNS = 16_384;

/** Cells a batch of records holds before it is handed on (2 MB of slots), however wide its rows. */
export const BATCH_CELLS = 1 << 18;

/** The record of a row with no values (shared: a gap of many rows costs one slot each). */
const EMPTY_ROW: (string | null)[] = Object.freeze([]) as unknown as (string | null)[];

export interface SheetContext {
  part: string;
  strings: SharedStrings | null;
  styleKinds: readonly NumberKind[];
  date1904: boolean;
}

/** `A1` → column index 0; null when the reference has no letters. */
function columnOf(ref: string): number | null {
  let col = 0;
  let i = 0;
  for (; i < ref.length; i++) {
    const c = ref.charCodeAt(i) | 0x20; // lower case
    if (c < 0x61 || c > 0x7a) break;
    col = col * 26 + (c - 0x60);
    if (col > MAX_COLUMNS) return MAX_COLUMNS;
  }
  return i === 0 ? null : col - 1;
}

export async function* sheetRecords(bytes: Bytes, ctx: SheetContext): AsyncGenerator<(string | null)[][], void, undefined> {
  const { strings, styleKinds, date1904, part } = ctx;
  let batch: (string | null)[][] = [];
  let batchCells = 0;
  let rowNo = 0; // the current row (1-based)
  let emitted = 0; // the last row handed on
  let row: (string | null)[] = [];
  let filled = false;
  let col = -1;
  let type = "n";
  let style = 0;
  let value = "";
  let hasValue = false;
  let inValue = false;
  let inCell = false;
  let inline: RichText | null = null;

  const cellText = (): string | null => {
    switch (type) {
      case "s": {
        if (!hasValue) return null;
        const index = Number(value);
        if (!Number.isInteger(index))
          throw malformed(`cell ${col + 1} of row ${rowNo} in ${part} refers to shared string "${value.slice(0, 20)}"`);
        if (!strings)
          throw malformed(`cell ${col + 1} of row ${rowNo} in ${part} refers to a shared string, but the workbook has no shared strings`);
        return strings.get(index);
      }
      case "inlineStr":
        return inline ? inline.take() || null : null;
      case "str":
        return hasValue && value !== "" ? unescapeText(value) : null;
      case "b":
        return hasValue ? (value.trim() === "1" ? "true" : "false") : null;
      case "e":
        return null; // #N/A, #DIV/0!: no value
      case "d":
        return hasValue && value.trim() !== "" ? isoText(value) : null;
      default: {
        const text = value.trim();
        if (!hasValue || text === "") return null;
        const n = Number(text);
        if (!Number.isFinite(n))
          throw malformed(`cell ${col + 1} of row ${rowNo} in ${part} holds "${text.slice(0, 20)}", which is no number`);
        const kind = styleKinds[style] ?? NumberKind.Number;
        return kind === NumberKind.Number ? numberText(n) : serialText(n, kind, date1904);
      }
    }
  };

  const sheet = parseXml(
    bytes,
    part,
    {
      open(name, a) {
        if (name === "c") {
          const at = a.r === undefined ? null : columnOf(a.r);
          const next = at ?? col + 1;
          if (next <= col) throw malformed(`row ${rowNo} of ${part} has its cells out of order (${a.r} after column ${col + 1})`);
          if (next >= MAX_COLUMNS) throw malformed(`row ${rowNo} of ${part} has a cell past column ${MAX_COLUMNS} (XFD), Excel's last`);
          col = next;
          type = a.t ?? "n";
          style = a.s === undefined ? 0 : Number(a.s);
          value = "";
          hasValue = inValue = false;
          inCell = true;
          if (type === "inlineStr") inline ??= new RichText();
        } else if (name === "v") {
          if (inCell) inValue = true;
        } else if (name === "row") {
          const r = a.r === undefined ? rowNo + 1 : Number(a.r);
          if (!Number.isInteger(r) || r <= rowNo || r > MAX_ROWS) {
            throw malformed(`a row of ${part} is numbered ${a.r ?? r} after row ${rowNo} (rows must ascend, 1 to ${MAX_ROWS})`);
          }
          rowNo = r;
          row = [];
          filled = false;
          col = -1;
        } else if (inCell && type === "inlineStr") inline!.open(name);
      },
      close(name) {
        if (name === "c") {
          const text = cellText();
          if (text !== null && text !== "") {
            while (row.length < col) row.push(null);
            row.push(text);
            filled = true;
          }
          inCell = inValue = false;
        } else if (name === "v") {
          if (inValue) hasValue = true;
          inValue = false;
        } else if (name === "row") {
          if (!filled) return;
          for (let r = emitted + 1; r < rowNo; r++) batch.push(EMPTY_ROW);
          batch.push(row);
          batchCells += row.length + (rowNo - emitted - 1); // an empty row a slot
          emitted = rowNo;
        } else if (inCell && type === "inlineStr") inline!.close(name);
      },
      text(text) {
        if (inValue) value += text;
        else if (inCell && type === "inlineStr") inline!.add(text);
      },
    },
    () => batchCells >= BATCH_CELLS,
  );
  try {
    for await (const _ of sheet) {
      if (batch.length > 0) {
        const out = batch;
        batch = [];
        batchCells = 0;
        yield out;
      }
    }
  } finally {
    await sheet.return(undefined);
  }
}
