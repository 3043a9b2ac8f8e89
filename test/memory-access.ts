/** Random access to bytes held in memory, the way R2 range reads give it (tests of random-access formats). */
import type { Bytes, FileAccess } from "../src/model";

export function memoryAccess(bytes: Uint8Array, chunk = 1 << 16): FileAccess {
  return {
    size: bytes.length,
    read: async (o, l) => bytes.slice(o, o + l),
    stream: (o, l) =>
      (async function* (): Bytes {
        for (let at = o; at < o + l; at += chunk) yield bytes.slice(at, Math.min(o + l, at + chunk));
      })(),
  };
}

/** The byte stream a random-access format is handed and does not read. */
export async function* nothing(): Bytes {}
