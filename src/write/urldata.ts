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
import { errorBody, toAppError } from "../errors";

const CHUNK_CHARS = 256 * 1024;
const DEFAULT_KEEPALIVE_MS = 10_000;
// Rows found by a selective filter go out at least this often, however few.
const FLUSH_MS = 1_000;

/**
 * Pulls the next piece of encoded rows (`,[1,"x"],[2,"y"]`, possibly ending
 * mid-row: the writer only concatenates), "" when a batch held no matching
 * row, null when there are no more. A piece is about PIECE_CHARS at most
 * (one cell may exceed it), so one output chunk stays bounded however wide
 * the rows or long the cells.
 */
export type RowPump = () => Promise<string | null>;

export const PIECE_CHARS = 64 * 1024;

const TICK = Symbol("tick");

export function urlDataBody(
  header: readonly string[],
  pump: RowPump,
  cancel: () => Promise<void>,
  label: string,
  timing: { keepaliveMs?: number } = {},
): ReadableStream<Uint8Array> {
  const KEEPALIVE_MS = timing.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
  const encoder = new TextEncoder();
  let first = true;
  let cancelled = false;
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
            // A slow source (a URL trickling bytes) keeps `pump` waiting: the
            // keep-alive must not wait with it.
            const next = pump();
            let piece: string | null;
            for (;;) {
              let timer: ReturnType<typeof setTimeout> | undefined;
              const tick = new Promise<typeof TICK>((r) => (timer = setTimeout(() => r(TICK), Math.max(0, KEEPALIVE_MS - (Date.now() - lastSent)))));
              const got = await Promise.race([next, tick]);
              clearTimeout(timer);
              if (got !== TICK) {
                piece = got;
                break;
              }
              controller.enqueue(encoder.encode(buf === "" ? " " : buf));
              buf = "";
              lastSent = Date.now();
            }
            if (piece === null) {
              controller.enqueue(encoder.encode(`${buf}]`));
              controller.close();
              return;
            }
            buf += piece;
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
          if (cancelled) return; // the client is gone: nobody to tell
          const e = toAppError(err);
          console.error(`urlData for ${label} failed after the response started: ${e.code}: ${e.message}`);
          controller.enqueue(encoder.encode(`${buf}\n!ERROR ${JSON.stringify(errorBody(e))}\n`));
          controller.close();
          await cancel().catch(() => {});
        }
      },
      async cancel() {
        cancelled = true;
        await cancel();
      },
    },
    { highWaterMark: 0 },
  );
}
