/**
 * The urlData answer, streamed: `[["A","B"],[1,"x"],…]`. Output is batched
 * into chunks of about CHUNK_CHARS characters (or whatever was found within
 * FLUSH_MS); the header row goes out at once, so the portal sees bytes before the file is read through; while a
 * selective filter skips rows for long, a space (valid JSON whitespace) is
 * sent every KEEPALIVE_MS so the portal's 60 s idle timeout never fires.
 *
 * A failure after the first byte cannot change the status any more. The body
 * then ends with an error line that makes it invalid JSON, so the portal can
 * never take a cut-off table for a complete one.
 */
import { errorBody, toAppError } from "../http/errors";

const CHUNK_CHARS = 256 * 1024;
const KEEPALIVE_MS = 10_000;
// Rows found by a selective filter go out at least this often, however few.
const FLUSH_MS = 1_000;

/** Pulls encoded rows (`[1,"x"]`); returns null when there are no more. */
export type RowPump = () => Promise<string[] | null>;

export function urlDataBody(header: readonly string[], pump: RowPump, cancel: () => Promise<void>, label: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let first = true;
  let lastSent = Date.now();
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(`[${JSON.stringify(header)}`));
      },
      async pull(controller) {
        let buf = "";
        try {
          while (buf.length < CHUNK_CHARS) {
            const rows = await pump();
            if (rows === null) {
              controller.enqueue(encoder.encode(`${buf}]`));
              controller.close();
              return;
            }
            for (const row of rows) buf += `,${row}`;
            if (first && buf !== "") break; // the first rows go out at once
            if (buf !== "" && Date.now() - lastSent > FLUSH_MS) break;
            if (Date.now() - lastSent > KEEPALIVE_MS) {
              if (buf === "") buf = " ";
              break;
            }
          }
          first = false;
          lastSent = Date.now();
          controller.enqueue(encoder.encode(buf));
        } catch (err) {
          const e = toAppError(err);
          console.error(`urlData for ${label} failed after the response started: ${e.code}: ${e.message}`);
          controller.enqueue(encoder.encode(`${buf}\n!ERROR ${JSON.stringify(errorBody(e))}\n`));
          controller.close();
          await cancel().catch(() => {});
        }
      },
      async cancel() {
        await cancel();
      },
    },
    { highWaterMark: 0 },
  );
}
