// The page's upload (app/main.ts) sends `?key=encodeURIComponent(key)` and the
// URL's query decoding undoes it: the key is exactly the name the page sent,
// never decoded twice (`sales%20q1.csv` is not `sales q1.csv`, `a%2Fb.csv` is
// no folder, `100%.csv` is no bad percent-encoding).
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { issueSession, SESSION_HEADER } from "../../src/auth/session";
import { readConfig } from "../../src/config/config";
import worker from "../../src/index";
import { clearBucket } from "../helpers";

const PORTAL = { PORTAL_URL: "https://portal.example", BITRIX_CLIENT_ID: "local.test.1", WORKER_URL: "https://worker.example" };
const appEnv = { ...env, ...PORTAL };
const config = readConfig(appEnv);
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

async function pageUpload(name: string, body: string): Promise<Response> {
  const { token } = await issueSession(appEnv, config.portal!, "tok", "m");
  // Exactly as app/main.ts builds the address.
  const request = new Request(`https://w/app/api/upload?key=${encodeURIComponent(name)}`, {
    method: "PUT",
    headers: { [SESSION_HEADER]: token, "content-length": String(body.length) },
    body,
  });
  return worker.fetch(request, appEnv, ctx);
}

beforeEach(clearBucket);

describe("the page's upload stores the file under the name it sent", () => {
  it.each(["sales%20q1.csv", "a%2Fb.csv", "100%.csv", "plain.csv", "dir/sub.csv"])("%s", async (name) => {
    await env.DATA.put("sales q1.csv", "keep\nme\n");
    const res = await pageUpload(name, "n\n1\n");
    expect(res.status).toBe(201);
    expect(((await res.json()) as { key: string }).key).toBe(name);
    expect(await (await env.DATA.get(name))?.text()).toBe("n\n1\n");
    expect(await (await env.DATA.get("sales q1.csv"))?.text()).toBe("keep\nme\n");
  });
});
