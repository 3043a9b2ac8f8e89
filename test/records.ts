/** Byte records built by hand, for tests that hold a byte writer to its text twin (no Workers API: any project may import it). */
import { CELL_ESCAPED, CELL_PLAIN } from "../src/formats/byte-records";
import type { ByteRecords } from "../src/model";

/** One cell as the CSV scanner hands it: plain, or quoted with its quotes doubled. */
export function oneCellRecord(text: string): ByteRecords {
  const escaped = text.includes('"');
  const buf = new TextEncoder().encode(escaped ? text.replaceAll('"', '""') : text);
  return {
    buf,
    count: 1,
    cells: 1,
    first: Int32Array.of(0, 1),
    start: Int32Array.of(0),
    end: Int32Array.of(buf.length),
    kind: Uint8Array.of(escaped ? CELL_ESCAPED : CELL_PLAIN),
  };
}
