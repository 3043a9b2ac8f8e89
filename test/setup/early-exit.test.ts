// A request answered before its body was read to the end must not break the
// NEXT request. Plain Miniflare does not show it; `wrangler dev` (its proxy
// in front of the Worker) answered the next request with a non-JSON
// `503 Your worker restarted mid-request` after a body was cancelled half-read.
// So this starts the Worker as `wrangler dev` does (unstable_dev) and talks
// raw HTTP/1.1 with chunked bodies, as curl does with `-T -`.
import { createHash } from "node:crypto";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Unstable_DevWorker, unstable_dev } from "wrangler";

const ROOT = join(import.meta.dirname, "..", "..");
let worker: Unstable_DevWorker;

beforeAll(async () => {
  process.env.WRANGLER_SEND_METRICS = "false";
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  worker = await unstable_dev(join(ROOT, "src", "index.ts"), {
    config: join(ROOT, "wrangler.jsonc"),
    local: true,
    ip: "127.0.0.1",
    vars: { CONNECTOR_TOKEN: "x", UPLOAD_TOKEN: "up" },
    logLevel: "none",
    experimental: { disableExperimentalWarning: true },
  });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
});

/** One request on its own connection; a body given as chunks goes out chunked. */
function send(
  method: string,
  path: string,
  chunks: string[] = [],
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: worker.address,
        port: worker.port,
        method,
        path,
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        agent: false,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, text }));
      },
    );
    req.on("error", reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const big = (prefix: string) => {
  const body = prefix + "x".repeat(1.1 * 1024 * 1024);
  const chunks: string[] = [];
  for (let i = 0; i < body.length; i += 64 * 1024) chunks.push(body.slice(i, i + 64 * 1024));
  return chunks;
};

const check = () => send("POST", "/check", ["connection%5Btoken%5D=x"]);

describe("early answers under wrangler dev", () => {
  it("a chunked 1.1 MiB /data (413) leaves the next request answered normally, 5 of 5", async () => {
    for (let i = 0; i < 5; i++) {
      const first = await send("POST", "/data", big("table=t&pad="));
      expect(first.status).toBe(413);
      expect(JSON.parse(first.text).error.code).toBe("BODY_TOO_LARGE");
      const next = await check();
      expect(next).toEqual({ status: 200, text: JSON.stringify({ ok: true, connector: "bitrix24-bi-files-connector", version: "0.1.0" }) });
    }
  });

  it("an upload refused half-way (422) leaves the next request answered normally", async () => {
    // A header and one row, then a row with too many fields: refused while streaming.
    const chunks = ["a,b\n1,2\n1,2,3,4\n", ...big("")];
    // Chunked uploads must declare a checksum (a cut-off body must not pass).
    const sha256 = createHash("sha256").update(chunks.join("")).digest("hex");
    for (let i = 0; i < 3; i++) {
      const first = await send("PUT", "/files/early.csv", chunks, {
        authorization: "Bearer up",
        "content-type": "text/csv",
        "x-content-sha256": sha256,
      });
      expect(first.status).toBe(422);
      expect(JSON.parse(first.text).error.code).toBe("CSV_MALFORMED");
      expect((await check()).status).toBe(200);
    }
  });

  it("a refused upload without a token (401) leaves the next request answered normally", async () => {
    for (let i = 0; i < 3; i++) {
      expect((await send("PUT", "/files/early.csv", big(""))).status).toBe(401);
      expect((await check()).status).toBe(200);
    }
  });
});
