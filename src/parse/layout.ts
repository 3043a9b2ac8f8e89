/** How a file is read: decided once per file version and kept in its description. */
import type { CsvDialect } from "./csv";
import type { JsonShape } from "./json";

export type Layout =
  | ({ format: "csv"; encoding: string } & CsvDialect)
  | { format: "json"; shape: JsonShape; records: "objects" | "arrays" };
