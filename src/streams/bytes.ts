/**
 * Byte streams as async generators. Stopping a consumer early (a `limit`, an
 * error, a cancelled response) runs the generator's `finally`, which cancels
 * the underlying read — so R2 or the remote server stops sending.
 */

export type Bytes = AsyncGenerator<Uint8Array, void, undefined>;

export async function* readStream(stream: ReadableStream<Uint8Array>): Bytes {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      if (value.byteLength > 0) yield value;
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
