/**
 * Secret comparison. Both sides are hashed first so the comparison is
 * constant-time whatever their lengths, and every configured secret is
 * compared (several allow rotation without downtime).
 */
async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

export async function tokenMatches(given: string, tokens: readonly string[]): Promise<boolean> {
  const g = await digest(given);
  let ok = false;
  for (const t of tokens) {
    if (crypto.subtle.timingSafeEqual(g, await digest(t))) ok = true;
  }
  return ok;
}

/** Two byte strings (MACs) compared in constant time; different lengths are simply unequal. */
export function bytesEqual(a: ArrayBuffer | Uint8Array, b: ArrayBuffer | Uint8Array): boolean {
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}
