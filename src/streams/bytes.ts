/**
 * Byte streams as async generators. Stopping a consumer early (a `limit`, an
 * error, a cancelled response) runs the generator's `finally`, which cancels
 * the underlying read — so R2 or the remote server stops sending.
 */

export type Bytes = AsyncGenerator<Uint8Array, void, undefined>;

// R2 and fetch bodies arrive in 4 KiB chunks when read plainly: 31,000 reads
// for a 122 MB file, each one an await, a timer and a parse call downstream
// (0.8–1.1 s of a full scan's CPU, measured in workerd). Read into our own
// buffers instead, at least READ_MIN bytes at a time (what is there once
// READ_MIN arrived, up to READ_MAX): 500 reads, 0.1 s.
const READ_MIN = 64 * 1024;
const READ_MAX = 256 * 1024;

type ByobReader = ReadableStreamBYOBReader & { readAtLeast?: ReadableStreamBYOBReader["readAtLeast"] };

/** A BYOB reader when the stream is a byte stream (R2, fetch and request bodies are), else null. */
function byobReader(stream: ReadableStream<Uint8Array>): ByobReader | null {
  try {
    return stream.getReader({ mode: "byob" }) as ByobReader;
  } catch {
    return null; // a stream made in JavaScript (a TransformStream's readable side): read it plainly
  }
}

export async function* readStream(stream: ReadableStream<Uint8Array>): Bytes {
  const byob = byobReader(stream);
  const reader = byob ?? stream.getReader();
  let finished = false;
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      if (byob) {
        // Each read gets a fresh buffer: a yielded chunk may be kept (peek, the decoder's tail).
        const view = new Uint8Array(READ_MAX);
        result = byob.readAtLeast ? await byob.readAtLeast(READ_MIN, view) : await byob.read(view);
      } else result = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
      const { done, value } = result;
      // A short read is copied out of its buffer, so a kept chunk never pins 4x its size (uploads hold 8 MiB of chunks).
      if (value && value.byteLength > 0) yield byob && 2 * value.byteLength < value.buffer.byteLength ? value.slice() : value;
      if (done) {
        finished = true;
        return;
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

export interface Prefix {
  /** The first bytes, at most `max` of them (the last chunk may be cut). */
  bytes: Uint8Array;
  /** True when the prefix is the whole stream. */
  complete: boolean;
  /** The whole stream again: the prefix chunks, then the rest. */
  all: Bytes;
}

/**
 * Reads up to `max` bytes to look at (type inference) without losing them:
 * `all` replays the prefix and then continues with the same source.
 */
export async function peek(source: Bytes, max: number): Promise<Prefix> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  while (size < max) {
    const { done, value } = await source.next();
    if (done) {
      complete = true;
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const joined = concat(chunks, size);
  async function* all(): Bytes {
    try {
      for (const c of chunks) yield c;
      if (!complete) yield* source;
    } finally {
      await source.return(undefined);
    }
  }
  const replay = all();
  // return() on a generator that never started skips its finally: close the source too.
  const close = replay.return.bind(replay);
  replay.return = async (value) => {
    const result = await close(value);
    await source.return(undefined);
    return result;
  };
  return { bytes: size > max ? joined.subarray(0, max) : joined, complete: complete && size <= max, all: replay };
}

export function concat(chunks: Uint8Array[], size = chunks.reduce((n, c) => n + c.byteLength, 0)): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Counts the bytes that pass (for LOG_STATS figures). */
export async function* counting(source: Bytes, counter: { bytes: number }): Bytes {
  try {
    for await (const chunk of source) {
      counter.bytes += chunk.byteLength;
      yield chunk;
    }
  } finally {
    await source.return(undefined);
  }
}

/** A byte generator as a ReadableStream (for R2 put and DecompressionStream). */
export function toStream(source: Bytes): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await source.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await source.return(undefined);
    },
  });
}
