/** Test helpers: real PHP-encoded bodies, requests to the real Worker, R2 objects. */
import { env, exports } from "cloudflare:workers";
import { inject, vi } from "vitest";
import type { MixedRowBatches } from "../src/formats/byte-rows";
import type { RowBatches } from "../src/formats/rows";
import worker from "../src/index";
import type { Description } from "../src/model";
import type { QueryPlan } from "../src/query/pipeline";
import { answerRows } from "../src/query/project";
import { PIECE_BYTES, urlDataBody } from "../src/write/urldata";

export const TOKEN = "test-token";

/** Bodies exactly as PHP's http_build_query writes them. */
export async function phpBodies(params: unknown[]): Promise<string[]> {
  const res = await fetch(`${inject("helperOrigin")}/php`, { method: "POST", body: JSON.stringify(params) });
  if (!res.ok) throw new Error(`php helper: ${await res.text()}`);
  return res.json();
}

export async function phpBody(params: unknown): Promise<string> {
  return (await phpBodies([params]))[0];
}

export function formRequest(path: string, body: string): Request {
  return new Request(`https://connector.test${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
}

const main = exports as unknown as { default: { fetch(request: Request): Promise<Response> } };

export function call(request: Request): Promise<Response> {
  return main.default.fetch(request);
}

/**
 * The Worker's fetch handler called in-process. Same runtime and handler as
 * `call`, without the service-binding hop, whose per-request cost grows with
 * the number of requests in one workerd instance (workers-sdk#15446): used
 * where a test sends hundreds of requests.
 */
export function callDirect(request: Request): Promise<Response> {
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  return worker.fetch(request, env, ctx);
}

/** How many URL tables the test configuration declares. */
export const URL_TABLE_COUNT = (JSON.parse(env.URL_TABLES) as unknown[]).length;

/** POST a portal-style form body built by PHP; the token is added unless given. */
export async function post(path: string, params: Record<string, unknown> = {}): Promise<Response> {
  const withToken = "connection" in params ? params : { ...params, connection: { token: TOKEN } };
  return call(formRequest(path, await phpBody(withToken)));
}

export async function postJson(path: string, body: unknown): Promise<Response> {
  return call(
    new Request(`https://connector.test${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
  );
}

export async function put(key: string, content: string | Uint8Array): Promise<void> {
  await env.DATA.put(key, content);
}

export async function clearBucket(): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await env.DATA.list({ cursor });
    if (page.objects.length) await env.DATA.delete(page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}

export async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Parses a urlData answer, failing loudly on anything but 200 + a JSON table. */
export async function table(res: Response): Promise<unknown[][]> {
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text}`);
  return JSON.parse(text);
}

export async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, ...body.error };
}

/**
 * Runs `fn` with console.error captured: the Worker logs every failure after
 * the response started, and a test that provokes one asserts the line
 * instead of printing it (a green run is quiet).
 */
export async function capturingErrors<T>(fn: () => Promise<T>): Promise<[T, string]> {
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  try {
    const result = await fn();
    return [result, logged.mock.calls.map((c) => c.map(String).join(" ")).join("\n")];
  } finally {
    logged.mockRestore();
  }
}

/** A streamed /data body built from a plan and its rows, as text: the reading the differential tests hold the other forms to. */
export function answerText(description: Description, plan: QueryPlan, rows: RowBatches | MixedRowBatches): Promise<string> {
  const body = urlDataBody(
    plan.header,
    answerRows(description, plan, rows, { pieceBytes: PIECE_BYTES }),
    async () => void (await rows.return(undefined)),
    "t",
  );
  return new Response(body).text();
}
