/**
 * The urlData answer, streamed: `[["A","B"],[1,"x"],…]`. Output is batched
 * into chunks of about CHUNK_BYTES (or whatever was found within
 * FLUSH_MS); the header row goes out at once, so the portal sees bytes before the file is read through; while a
 * selective filter skips rows for long, a space (valid JSON whitespace) is
 * sent every KEEPALIVE_MS so the portal's 60 s idle timeout never fires.
 *
 * A failure after the first byte cannot change the status any more. The body
 * then ends with an error line that makes it invalid JSON, so the portal can
 * never take a cut-off table for a complete one.
 *
 * Every answer is pulled: a piece is made only when the client's side asks
 * for one (highWaterMark 0), so an answer holds at most one chunk being built
 * (CHUNK_BYTES plus one piece) and the piece the source is on, however large
 * the answer and however slowly (or never) the client reads. When the client
 * goes away (the body is cancelled, or the request's signal aborts) nothing
 * more is made and the source's read is cancelled.
 */

import { errorBody, toAppError } from "../errors";
import { logEvent } from "../log";
import { ByteBuilder } from "../streams/byte-builder";

const CHUNK_BYTES = 256 * 1024;
const DEFAULT_KEEPALIVE_MS = 10_000;
// Rows found by a selective filter go out at least this often, however few.
const FLUSH_MS = 1_000;

/**
 * Pulls the next piece of encoded rows (`,[1,"x"],[2,"y"]`, possibly ending
 * mid-row: the writer only concatenates) as UTF-8 bytes (or text), empty when
 * a batch held no matching row, null when there are no more. A piece is about
 * PIECE_BYTES at most (one cell may exceed it), so one output chunk stays
 * bounded however wide the rows or long the cells. The writer copies a piece
 * before it asks for the next one.
 */
export type RowPump = () => Promise<Uint8Array | string | null>;

export const PIECE_BYTES = 64 * 1024;

/**
 * What the writers are doing, for tests and figures: answers still open (not
 * yet ended, failed or cancelled with their source released) and bytes
 * handed to the runtime by urlDataBody.
 */
export const answerMeter = { open: 0, enqueued: 0 };

export interface BodyOptions {
  /** How often a space goes out while no row does (tests shorten it). */
  keepaliveMs?: number;
  /** The request's signal: when it aborts (the client is gone), the answer stops as if cancelled. */
  signal?: AbortSignal;
}

const TICK = Symbol("tick");
const SPACE = 32;
const CLOSE = 93;

/**
 * The rows of an answer: pieces pulled one at a time (`cancel` stops their
 * production and releases the source's read), or whole streams of answer
 * bytes piped as they are (a compiled table's stored rows).
 */
export type AnswerRows = { pump: RowPump; cancel: () => Promise<void> } | { streams: () => Promise<ReadableStream<Uint8Array> | null> };

/** The urlData body of an answer's rows, whichever shape they come in. */
export function answerStream(
  header: readonly string[],
  rows: AnswerRows,
  table: string,
  options: BodyOptions = {},
): ReadableStream<Uint8Array> {
  return "pump" in rows ? urlDataBody(header, rows.pump, rows.cancel, table, options) : urlDataPiped(header, rows.streams, table, options);
}

export function urlDataBody(
  header: readonly string[],
  pump: RowPump,
  cancel: () => Promise<void>,
  /** The table's code, for the log line of an answer cut short. */
  table: string,
  options: BodyOptions = {},
): ReadableStream<Uint8Array> {
  const KEEPALIVE_MS = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
  const encoder = new TextEncoder();
  let first = true;
  let cancelled = false;
  let ended = false;
  let lastSent = Date.now();
  /** Ends the answer once: the meter counts it closed after its source was released. */
  const end = async (release: boolean) => {
    if (ended) return;
    ended = true;
    options.signal?.removeEventListener("abort", onAbort);
    try {
      if (release) await cancel();
    } finally {
      answerMeter.open--;
    }
  };
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array) => {
    answerMeter.enqueued += chunk.byteLength;
    controller.enqueue(chunk);
  };
  let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
  function onAbort() {
    if (cancelled) return;
    cancelled = true;
    try {
      stream?.error(new Error("the client went away"));
    } catch {
      // already closed
    }
    void end(true).catch(() => {});
  }
  answerMeter.open++;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        stream = controller;
        if (options.signal?.aborted) return onAbort();
        options.signal?.addEventListener("abort", onAbort);
        send(controller, encoder.encode(`[${JSON.stringify(header)}`));
      },
      async pull(controller) {
        if (cancelled) return;
        const buf = new ByteBuilder(CHUNK_BYTES + PIECE_BYTES);
        try {
          while (buf.length < CHUNK_BYTES) {
            if (cancelled) return; // the client left while this chunk was being made
            // A slow source (a URL trickling bytes) keeps `pump` waiting: the
            // keep-alive must not wait with it.
            const next = pump();
            let piece: Uint8Array | string | null;
            for (;;) {
              let timer: ReturnType<typeof setTimeout> | undefined;
              const tick = new Promise<typeof TICK>(
                (r) => (timer = setTimeout(() => r(TICK), Math.max(0, KEEPALIVE_MS - (Date.now() - lastSent)))),
              );
              const got = await Promise.race([next, tick]);
              clearTimeout(timer);
              if (got !== TICK) {
                piece = got;
                break;
              }
              if (cancelled) return;
              if (buf.length === 0) buf.byte(SPACE);
              send(controller, buf.take());
              lastSent = Date.now();
            }
            if (cancelled) return;
            if (piece === null) {
              buf.byte(CLOSE);
              send(controller, buf.take());
              controller.close();
              await end(false);
              return;
            }
            if (typeof piece === "string") buf.text(piece);
            else buf.bytes(piece);
            if (first && buf.length > 0) break; // the first rows go out at once
            if (buf.length > 0 && Date.now() - lastSent > FLUSH_MS) break;
            if (Date.now() - lastSent > KEEPALIVE_MS) {
              if (buf.length === 0) buf.byte(SPACE);
              break;
            }
          }
          first = false;
          lastSent = Date.now();
          send(controller, buf.take());
        } catch (err) {
          if (cancelled) return; // the client is gone: nobody to tell
          const e = toAppError(err);
          answerFailed(table, e.code);
          buf.text(`\n!ERROR ${JSON.stringify(errorBody(e))}\n`);
          send(controller, buf.take());
          controller.close();
          await end(true).catch(() => {});
        }
      },
      async cancel() {
        cancelled = true;
        await end(true);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * The same answer when its rows already are answer bytes in whole streams
 * (a compiled table's stored rows sections, `next` giving one per call, null
 * at the end): each is piped to the client as it is. In workerd an R2 body
 * piped into an IdentityTransformStream never enters JavaScript (measured:
 * a 143 MB answer for 0.1 s of CPU, against 0.4 s copying it through the
 * writer above). No keep-alive is needed: every stream is one R2 read away.
 * A failure ends the body with the same error line as urlDataBody's.
 *
 * Pulled too: a pipe moves a chunk only when the client's side took the last
 * one (the identity stream holds none of its own), and R2 is read no faster.
 * When the client goes away the pipe fails, which cancels the R2 read in
 * flight, and no further stream is asked for.
 */
/** An answer cut short after it started: its table and error code (the message can quote the file's cells). */
function answerFailed(table: string, code: string): void {
  logEvent("answer_failed", { table, code }, "error");
}

export function urlDataPiped(
  header: readonly string[],
  next: () => Promise<ReadableStream<Uint8Array> | null>,
  table: string,
  options: { signal?: AbortSignal } = {},
): ReadableStream<Uint8Array> {
  // IdentityTransformStream is workerd's; Node (bench/compiled-node.ts) takes the standard one.
  const Identity = (globalThis as { IdentityTransformStream?: typeof TransformStream }).IdentityTransformStream ?? TransformStream;
  const { readable, writable } = new Identity<Uint8Array, Uint8Array>();
  const encoder = new TextEncoder();
  const write = async (bytes: Uint8Array) => {
    const writer = writable.getWriter();
    try {
      await writer.write(bytes);
    } finally {
      writer.releaseLock();
    }
  };
  const { signal } = options;
  /** Whether the readable side was cancelled: the writable is then errored (no desired size). */
  const clientGone = () => {
    const writer = writable.getWriter();
    try {
      return writer.desiredSize === null;
    } finally {
      writer.releaseLock();
    }
  };
  answerMeter.open++;
  void (async () => {
    let started = false;
    try {
      await write(encoder.encode(`[${JSON.stringify(header)}`));
      started = true;
      for (let part = signal?.aborted ? null : await next(); part; part = signal?.aborted ? null : await next()) {
        await part.pipeTo(writable, { preventClose: true, preventAbort: true, signal });
      }
      if (signal?.aborted) throw new Error("the client went away");
      await write(new Uint8Array([CLOSE]));
      await writable.close();
    } catch (err) {
      try {
        // The client went away (the request's signal, or its side cancelled, which errors the pipe's end): nobody to tell.
        if (!started || signal?.aborted || clientGone()) throw err;
        const e = toAppError(err);
        answerFailed(table, e.code);
        await write(encoder.encode(`\n!ERROR ${JSON.stringify(errorBody(e))}\n`));
        await writable.close();
      } catch {
        await writable.abort(err).catch(() => {}); // the client is gone: nobody to tell
      }
    } finally {
      answerMeter.open--;
    }
  })();
  return readable;
}
