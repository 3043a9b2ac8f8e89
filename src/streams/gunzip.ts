/**
 * gzip decompression pulled only as fast as the output is consumed.
 *
 * `stream.pipeThrough(new DecompressionStream("gzip"))` reads its whole input
 * at once and queues everything it inflates: a 3.6 MB file that inflates to
 * 1 GiB took a `limit=1` request to 1.5 GB RSS. Here the input is written to
 * the decompressor one small slice at a time, and the next slice only when
 * the reader is still waiting for output, so at most about one slice's worth
 * of inflated data is ever queued. Slices are sized from the ratio seen so
 * far (~256 KB of output each).
 *
 * A gzip bomb is refused: past the first RATIO_FREE_BYTES, the output may be
 * at most MAX_RATIO times the input read so far (real CSV and JSON compress
 * 5–20×, rarely beyond 100×; deflate's ceiling is ~1,000×).
 */
import { AppError } from "../errors";
import { type Bytes, readStream } from "./bytes";

export const MAX_RATIO = 200;
export const RATIO_FREE_BYTES = 16 * 1024 * 1024;
const TARGET_OUT = 256 * 1024;
const MIN_SLICE = 1024;
const MAX_SLICE = 64 * 1024;
const NOT_YET = Symbol("not yet");

/** What a failed inflate is reported as: broken data, and a bomb (output past MAX_RATIO × input). */
export interface InflateErrors {
  invalid(err: Error): AppError;
  bomb(outBytes: number, inBytes: number): AppError;
}

const GZIP_ERRORS: InflateErrors = {
  invalid: (err) =>
    new AppError(
      "FILE_GZIP_INVALID",
      `The file ends in .gz but is not valid gzip data (${err.message}). Upload it again, compressed with gzip, or without the .gz suffix.`,
    ),
  bomb: (outBytes, inBytes) =>
    new AppError(
      "FILE_GZIP_TOO_LARGE",
      `The gzip file inflates more than ${MAX_RATIO} times (${outBytes} bytes from the first ${inBytes}): that is a decompression bomb, not a table. Upload the file uncompressed or compressed normally.`,
    ),
};

export function gunzip(input: Bytes | ReadableStream<Uint8Array>): Bytes {
  return inflating(input, "gzip", GZIP_ERRORS);
}

/** Raw deflate data (a zip member), paced and bomb-checked the same way. */
export function inflateRaw(input: Bytes, errors: InflateErrors): Bytes {
  return inflating(input, "deflate-raw", errors);
}

function inflating(input: Bytes | ReadableStream<Uint8Array>, format: "gzip" | "deflate-raw", errors: InflateErrors): Bytes {
  const source = input instanceof ReadableStream ? readStream(input) : input;
  const invalid = (err: unknown): AppError => (err instanceof AppError ? err : errors.invalid(err as Error));
  return (async function* () {
    const ds = new DecompressionStream(format);
    const writer = ds.writable.getWriter();
    const reader = ds.readable.getReader();
    let inBytes = 0;
    let outBytes = 0;
    let rest: Uint8Array = new Uint8Array(0); // source bytes not yet written
    let sourceDone = false;
    let closed = false;
    // The last slice written, how much output it is expected to give (from
    // the ratio of the slice before), and how much has been read since.
    let lastSlice = 0;
    let expected = 0;
    let sinceFeed = 0;

    // Writes the next slice of input (or closes the writer at the end).
    const feed = async (): Promise<void> => {
      // Starved: everything written so far has come out, so this ratio is exact.
      const ratio = lastSlice > 0 ? Math.max(sinceFeed / lastSlice, 1) : TARGET_OUT / MIN_SLICE;
      sinceFeed = 0;
      if (rest.byteLength === 0 && !sourceDone) {
        const next = await source.next();
        if (next.done) sourceDone = true;
        else rest = next.value;
      }
      if (rest.byteLength === 0) {
        closed = true;
        await writer.close();
        return;
      }
      const slice = rest.subarray(0, Math.max(MIN_SLICE, Math.min(MAX_SLICE, Math.floor(TARGET_OUT / ratio))));
      rest = rest.subarray(slice.byteLength);
      inBytes += slice.byteLength;
      lastSlice = slice.byteLength;
      expected = inBytes > slice.byteLength ? slice.byteLength * ratio : 0; // the first slice: no ratio yet
      await writer.write(slice);
    };

    // Output the decompressor already holds reaches `read` only after a turn
    // of the event loop. Starvation is therefore checked with a zero timer
    // once the last slice's output is nearly all read, and otherwise with a
    // shared 2 ms guard (in case that slice gives less than expected), so
    // normal files do not pay a timer per 4 KB of output.
    const turn = () => new Promise<typeof NOT_YET>((r) => setTimeout(() => r(NOT_YET), 0));
    let guard: Promise<typeof NOT_YET> | null = null;
    const guarded = () =>
      (guard ??= new Promise<typeof NOT_YET>((r) =>
        setTimeout(() => {
          guard = null;
          r(NOT_YET);
        }, 2),
      ));
    const nextRead = () => {
      const r = reader.read();
      r.catch(() => {}); // a failure is seen through the race; never unhandled
      return r;
    };
    let read = nextRead();
    let feeding: Promise<typeof NOT_YET> | null = null;
    let finished = false;
    try {
      for (;;) {
        const wait: Promise<typeof NOT_YET> = feeding ?? (sinceFeed >= 0.9 * expected ? turn() : guarded());
        let got: ReadableStreamReadResult<Uint8Array> | typeof NOT_YET = await Promise.race([read, wait]);
        if (got === NOT_YET) {
          if (feeding !== null) {
            feeding = null;
            continue;
          }
          if (closed) {
            got = await read;
          } else {
            // `read` is still waiting: the decompressor needs more input.
            feeding = feed().then(() => NOT_YET);
            feeding.catch(() => {});
            continue;
          }
        }
        if (got.done) {
          finished = true;
          return;
        }
        outBytes += got.value.byteLength;
        sinceFeed += got.value.byteLength;
        if (outBytes > RATIO_FREE_BYTES && outBytes > MAX_RATIO * inBytes) throw errors.bomb(outBytes, inBytes);
        read = nextRead();
        if (got.value.byteLength > 0) yield got.value;
      }
    } catch (err) {
      throw invalid(err);
    } finally {
      if (!finished) {
        await reader.cancel().catch(() => {});
        await writer.abort().catch(() => {});
      }
      // A feed still waiting for the source ends when the source is cancelled.
      await source.return(undefined);
    }
  })();
}
