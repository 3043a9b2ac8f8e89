/**
 * Request bodies left half-read. Answering before the body was read to its
 * end (a 413 after the first MiB, an upload refused at a bad row) is fine on
 * Cloudflare, but the local dev server (`wrangler dev`) then answers the NEXT
 * request with a non-JSON `503 Your worker restarted mid-request`.
 * Cancelling the body does not help (that is what the size cap did), nor does
 * draining it in `waitUntil` after the answer; reading it to its end before
 * the answer goes out does. So the Worker hands its handlers a stand-in body
 * and, once the answer is ready, reads whatever of the client's body is left —
 * bounded, so an endless or trickling body cannot hold the Worker: past
 * DRAIN_MAX_BYTES or DRAIN_MAX_MS it is cancelled instead.
 */
// Small on purpose: a refused request must not make the Worker read a large
// body it refused (the 1 MiB cap, an upload stopped at a bad row). Past this
// the body is cancelled, which only the local dev server minds.
export const DRAIN_MAX_BYTES = 4 * 1024 * 1024;
export const DRAIN_MAX_MS = 5_000;

export interface GuardedRequest {
  request: Request;
  /** Reads and drops what the handler left of the body (call before answering). */
  drain(): Promise<void>;
}

export function guardBody(request: Request): GuardedRequest {
  if (!request.body) return { request, drain: async () => {} };
  const reader = request.body.getReader();
  let ended = false;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await reader.read();
        if (next.done) {
          ended = true;
          controller.close();
        } else controller.enqueue(next.value);
      },
      // A handler that stops reading cancels only this stand-in: drain() finishes the client's body.
      cancel() {},
    },
    { highWaterMark: 0 },
  );
  return {
    request: new Request(request, { body }),
    async drain() {
      if (ended) return;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), DRAIN_MAX_MS)));
      try {
        for (let size = 0; size <= DRAIN_MAX_BYTES; ) {
          const next = await Promise.race([reader.read(), timedOut]);
          if (next === "timeout") break;
          if (next.done) return;
          size += next.value.byteLength;
        }
        await reader.cancel().catch(() => {});
      } catch {
        // The client went away: nothing left to drain.
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
