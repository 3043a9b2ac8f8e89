/**
 * One interface for a batch of rows, whichever reading made it: text rows
 * (any format) or byte records (UTF-8 CSV, with the rows that were made text
 * among them). The answer's writer loop (project.ts) reads the filter's
 * typed cells and writes the selected cells through it, and never knows
 * which reading it is on.
 */
import { cellString } from "../formats/byte-records";
import type { ByteRowBatch } from "../formats/byte-rows";
import type { ByteRecords, Cell, Description, TextRow } from "../model";
import type { ByteBuilder } from "../streams/byte-builder";
import type { Converter } from "../values/convert";
import { type ByteCellWriter, byteWritersFor, type CellWriter, cellWritersFor } from "./cells";
import { convertersFor } from "./pipeline";

export interface RowBatch {
  readonly size: number;
  /** Row r's cell of column c as a typed cell (what the filter compares). */
  typed(r: number, c: number): Cell;
  /** Writes row r's cell of column c as its JSON in the answer. */
  write(out: ByteBuilder, r: number, c: number): void;
}

/** Per column of a table, how its cells are read and written: made once per answer, shared by its batches. */
export interface ColumnCells {
  converters: Converter[];
  writers: CellWriter[];
  bytes: ByteCellWriter[];
}

export function columnCells(description: Description): ColumnCells {
  const writers = cellWritersFor(description);
  return { converters: convertersFor(description), writers, bytes: byteWritersFor(description, writers) };
}

class TextBatch implements RowBatch {
  readonly size: number;
  constructor(
    private readonly rows: TextRow[],
    private readonly cells: ColumnCells,
  ) {
    this.size = rows.length;
  }

  typed(r: number, c: number): Cell {
    return this.cells.converters[c](this.rows[r][c]);
  }

  write(out: ByteBuilder, r: number, c: number): void {
    this.cells.writers[c](out, this.rows[r][c]);
  }
}

class RecordBatch implements RowBatch {
  readonly size: number;
  private readonly records: ByteRecords;
  private readonly starts: number[];
  private readonly texts: (TextRow | null)[];
  constructor(
    batch: ByteRowBatch,
    private readonly cells: ColumnCells,
  ) {
    this.records = batch.records;
    this.starts = batch.cells;
    this.texts = batch.texts;
    this.size = batch.texts.length;
  }

  typed(r: number, c: number): Cell {
    const t = this.texts[r];
    return this.cells.converters[c](t === null ? cellString(this.records, this.starts[r] + c) : t[c]);
  }

  write(out: ByteBuilder, r: number, c: number): void {
    const t = this.texts[r];
    if (t === null) this.cells.bytes[c](out, this.records, this.starts[r] + c);
    else this.cells.writers[c](out, t[c]);
  }
}

/** A source's batch behind the one interface. */
export function rowBatch(batch: TextRow[] | ByteRowBatch, cells: ColumnCells): RowBatch {
  return Array.isArray(batch) ? new TextBatch(batch, cells) : new RecordBatch(batch, cells);
}
