// Review: the session root (`.app/session-key`) was read once per isolate and
// kept for its life. Deleting the object — docs/security.md's way to end
// every session — left every warm isolate accepting the old sessions and signing
// new ones with the deleted root, while a fresh isolate made another root:
// each then refused the other's sessions. An isolate now re-reads the root
// after ROOT_CACHE_MS.
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { issueSession, ROOT_CACHE_MS, SESSION_KEY_OBJECT, verifySession } from "../src/auth/session";
import { readConfig } from "../src/config/config";
import { clearBucket } from "./helpers";

const appEnv = { ...env, PORTAL_URL: "https://portal.example", BITRIX_CLIENT_ID: "local.test.1", WORKER_URL: "https://worker.example" };
const config = readConfig(appEnv);

beforeEach(clearBucket);

describe("deleting the session key object", () => {
  it("ends a session issued before, in the same (warm) isolate, within ROOT_CACHE_MS", async () => {
    const now = Date.now();
    const { token } = await issueSession(appEnv, config.portal!, "tok", "m", now);
    expect((await verifySession(appEnv, config, token, now + 1000)).accessToken).toBe("tok");
    await env.DATA.delete(SESSION_KEY_OBJECT);
    // Before: still valid here for as long as the isolate lives.
    await expect(verifySession(appEnv, config, token, now + ROOT_CACHE_MS + 1000)).rejects.toMatchObject({ code: "SESSION_INVALID" });
  });

  it("a session signed after it was replaced is one every isolate accepts (signed with the root the bucket holds)", async () => {
    const now = Date.now() + 5 * ROOT_CACHE_MS; // well past the first test's reads
    await issueSession(appEnv, config.portal!, "tok", "m", now); // the isolate reads (makes) the root
    const replaced = crypto.getRandomValues(new Uint8Array(32));
    await env.DATA.put(SESSION_KEY_OBJECT, replaced); // what another isolate makes after a delete
    const later = now + ROOT_CACHE_MS + 1000;
    const { token } = await issueSession(appEnv, config.portal!, "tok2", "m", later);
    // The MAC key another isolate derives from the bucket's root: HKDF exactly as src/auth/session.ts.
    const base = await crypto.subtle.importKey("raw", replaced, "HKDF", false, ["deriveKey"]);
    const enc = new TextEncoder();
    const mac = await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: enc.encode("bitrix24-bi-files-connector app session v1"), info: enc.encode(`session-mac\n${config.portal!.origin}\n${config.portal!.clientId}`) },
      base,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["verify"],
    );
    const [v, claims, sealed, sig] = token.split(".");
    const sigBytes = Uint8Array.from(atob(sig.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    expect(await crypto.subtle.verify("HMAC", mac, sigBytes, enc.encode(`${v}.${claims}.${sealed}`))).toBe(true);
  });
});
