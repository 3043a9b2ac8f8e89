/**
 * The shared model: the types every stage passes along (a table, its
 * columns, how its file is read, a typed cell). A leaf: it imports nothing
 * and does no IO, so any module may depend on it without depending on the
 * modules that read R2, fetch URLs or cache descriptions. (The error codes are
 * the one other leaf it names.)
 */
import type { ErrorCode } from "./errors";

/**
 * Column types as answered to the portal: exactly the five its REST datasets
 * take. `money` is accepted in a sidecar as a synonym of `double` (the portal's
 * "sync fields" throws on it for REST datasets) and `timezone` is absent (it
 * breaks BI requests for the whole portal).
 */
export const COLUMN_TYPES = ["int", "double", "date", "datetime", "string"] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** A cell after conversion: numbers for int/double, canonical text for dates. */
export type Cell = number | string | null;

/** A row of cell text, aligned with the table's columns (null: no value). */
export type TextRow = (string | null)[];

/** How `a/b/yyyy` is read: day first or month first. Dots are always day first. */
export type SlashOrder = "dmy" | "mdy";

/** Date formats a file or a portal may use; slashes decide the SlashOrder. */
export const DATE_FORMATS = ["DD.MM.YYYY", "MM/DD/YYYY", "DD/MM/YYYY", "YYYY-MM-DD"] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

/**
 * How a column writes its numbers (`1,234.56`, `1.234,56`, `12 500,50`):
 * decided once per column from its values (catalog/infer.ts), never per cell.
 * `group` is the thousands separator: `" "` stands for space, U+00A0 and
 * U+202F alike; `""` for none. Currency signs, accounting parentheses and
 * `%` are read whatever the convention.
 */
export interface NumberFormat {
  decimal: "." | ",";
  group: "" | "," | "." | " " | "'";
}

export interface Column {
  /** Valid portal field name; also the externalCode. */
  code: string;
  /** The header text (or JSON key) as in the file. */
  name: string;
  type: ColumnType;
  slashOrder: SlashOrder;
  /** How its numbers are written; absent: the table's decimal separator, no thousands groups but spaces. */
  numberFormat?: NumberFormat;
  /** The sidecar declares its type: a numeric column then also reads `007` and `1e5` (values/numbers.ts readNumber). */
  declared?: boolean;
}

/** A byte stream (an R2 object, a URL body, an upload): see streams/bytes.ts. */
export type Bytes = AsyncGenerator<Uint8Array, void, undefined>;

/** Records in batches: arrays (positional, the header first) or objects (keyed cells). */
export type Records = AsyncGenerator<unknown[], void, undefined>;

/**
 * Positional records as ranges of the file's UTF-8 bytes (formats/byte-records.ts):
 * record r's cells are cells `first[r]` to `first[r + 1] - 1`; cell c is
 * `buf[start[c], end[c])`, written as `kind[c]` says (plain, quoted, or quoted
 * with doubled quotes). The arrays are the reader's own: valid until the next batch is asked for.
 */
export interface ByteRecords {
  buf: Uint8Array;
  count: number;
  cells: number;
  first: Int32Array;
  start: Int32Array;
  end: Int32Array;
  kind: Uint8Array;
}

/** Byte record batches; once the byte reader cannot go on, text records (string arrays) of the rest. */
export type ByteRecordBatches = AsyncGenerator<ByteRecords | string[][], void, undefined>;

/**
 * Random access to the one version of a file that a read is reading (R2
 * range reads pinned to the object's etag). Bound to that read's request:
 * handed to `records` per read, never kept in a Description (which is cached
 * across requests).
 */
export interface FileAccess {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  stream(offset: number, length: number): Bytes;
}

/** What one read of a file's records is given besides its bytes. */
export interface ReadOptions {
  /** This read's random access (see FileAccess). */
  access?: FileAccess;
  /** The bytes are a whole upload being checked before it is stored. */
  upload?: boolean;
  /**
   * Hears a decision this read made that the reader had left open (CSV: the
   * encoding of a file whose first bytes are ASCII), as the reader that reads
   * with it. The read's own state: the reader itself never changes.
   */
  onDecided?: (reader: RecordReader) => void;
}

/**
 * How a file is read, as its format detected it from the first bytes
 * (formats/): kept in the description, so later reads detect nothing again.
 */
export interface RecordReader {
  /** The format's name, for messages. */
  format: string;
  /**
   * Raw records from the file's first byte. `truncated`: the bytes are a prefix (its last record may be cut, and is dropped).
   * A blank line is an empty record `[]`, so that rows count as the file's lines do.
   * `options.access`: random access to the same version, for formats that read elsewhere (XLSX reads its zip directory
   * and parts with it, and closes `bytes`); absent when the source only streams.
   * `options.upload`: the bytes are a whole file being checked before it is stored, and what only a file cut short
   * looks like is refused (CSV: a last record with fewer fields than the header and no line break after it).
   */
  records(bytes: Bytes, truncated: boolean, options?: ReadOptions): Records;
  /**
   * The same records as byte ranges, for an answer that copies cells instead
   * of making strings of them (CSV in UTF-8: formats/csv/scan.ts); absent when
   * this file cannot be read so. Always the whole file, never an upload.
   */
  byteRecords?: (bytes: Bytes) => ByteRecordBatches;
  /** Makes text of a cell value that is not text (JSON numbers, nested values); null when every cell already is text (CSV). */
  cellText: ((value: unknown) => string | null) | null;
  /** Numbers read with a decimal comma unless a sidecar says otherwise (CSV with `;` or tab). */
  decimalComma: boolean;
  /** The code of a record that does not fit the table's shape, and what to check in such a record. */
  malformed: { code: ErrorCode; extraCells: string };
  /**
   * What the format decided about the file (CSV: encoding and dialect), as
   * plain JSON: kept in the file's manifest and handed back to the format's
   * detect (DetectHints.decided) so that a later read decides nothing again.
   * Decided once, when the reader is made: a decision its first bytes left
   * open (an ASCII prefix) is made by each read for itself, and reported by
   * ReadOptions.onDecided, never written back here.
   */
  decisions?: () => ReaderDecisions;
}

/** A row above the header that every read skips: a report's title lines and blank lines. */
export interface SkippedRow {
  /** 1-based row of the file, blank lines counted (a CSV line, unless a quoted cell above it spans lines). */
  row: number;
  reason: "title" | "empty";
}

/** A row below the data that was dropped: a totals row, an empty row, or one of the sidecar's `footerRows`. */
export interface FooterRow {
  row: number;
  reason: "total" | "empty" | "footer";
  /** For a totals row: its label (`Итого`, `Total:`). */
  firstCell?: string;
}

/**
 * What is dropped at the end of the data. `totals`: the contiguous block of
 * totals rows (a label such as `Итого`/`Total` first, numbers in the numeric
 * columns `numeric` after it) and empty rows at the end; rows that look like
 * that are held back until a later data row proves them data (at most
 * `maxHeld` totals rows: past that, the block is data). `count`: exactly the
 * last `rows` rows (the sidecar's `footerRows`; 0 drops nothing).
 */
export type FooterRule = { kind: "totals"; numeric: number[]; maxHeld: number } | { kind: "count"; rows: number };

/** Where a positional table's header and data are in its file (formats/report-layout.ts). Plain data: stored as it is. */
export interface Layout {
  /** 1-based row of the header record, blank lines counted; the rows above it are skipped. */
  headerRow: number;
  skippedRows: SkippedRow[];
  footer: FooterRule;
  /** The footer rows found when the description's sample was the whole file (an upload's inspection reports them for any file). */
  footerRows: FooterRow[];
  /** Whether headerRow/footer came from the sidecar rather than detection. */
  declared: boolean;
}
/** A format's decisions about a file: plain JSON, the format's own shape. */
export type ReaderDecisions = Record<string, unknown>;

export interface Description {
  reader: RecordReader;
  /** JSON object keys per column; for CSV and JSON arrays, columns are positions. */
  keys: string[];
  /**
   * CSV and JSON arrays: the header record as it was when the table was
   * described (raw texts, trailing empty columns included); every read checks
   * its own header against it. null for JSON object tables.
   */
  header: TextRow | null;
  /** In file order (rows are read by position). */
  columns: Column[];
  decimalComma: boolean;
  /** The sidecar's `dateColumn`: the column answered as the first date/datetime one. */
  dateColumn?: number;
  /** Positional tables: header row, rows skipped above it, footer rule. Absent: the header is the first record, nothing dropped. */
  layout?: Layout;
}

/** A sidecar (`<key>.schema.json`, or a URL table's `schema`); see rules/sidecar.ts. */
export interface Sidecar {
  format?: string;
  encoding?: string;
  delimiter?: string;
  decimalSeparator?: "." | ",";
  dateFormat?: DateFormat;
  /** The table's main date column (header text or code). */
  dateColumn?: string;
  /** XLSX: the worksheet to read, by its name (default: the first sheet). */
  sheet?: string;
  /** Columns by their header text (or JSON key). */
  columns?: Record<string, { code?: string; name?: string; type?: ColumnType }>;
  /** 1-based row of the header (blank lines counted); replaces header detection. */
  headerRow?: number;
  /** Rows above the header (the same as headerRow − 1). */
  skipRows?: number;
  /** Rows to drop at the end, exactly; replaces totals detection (0: drop nothing). */
  footerRows?: number;
}

/** A table published at a URL, declared in URL_TABLES; see config.ts. */
export interface UrlTable {
  code: string;
  title: string;
  url: string;
  format: string;
  gzip?: boolean;
  schema?: Sidecar;
}

/** Where a table's bytes are; `extension` names the format the key or declaration gives. */
export type TableSource =
  | { kind: "r2"; key: string; extension: string; gzip: boolean }
  | { kind: "url"; table: UrlTable; extension: string; gzip: boolean };

export interface TableEntry {
  code: string;
  title: string;
  source: TableSource;
}

/** The connector protocol: each endpoint by the portal's connector field that registers it. */
export const PORTAL_ENDPOINTS = {
  urlCheck: "/check",
  urlTableList: "/table_list",
  urlTableDescription: "/table_description",
  urlData: "/data",
} as const;
