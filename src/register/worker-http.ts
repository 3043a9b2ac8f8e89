/** The Worker's table list and descriptions over HTTP, as the portal would ask (JSON bodies). */

import { jsonObject, parseJson } from "../values/json";
import type { WorkerApi } from "./register";

/** The Worker could not be reached at all (as opposed to answering an error). */
export class WorkerUnreachableError extends Error {}

export function httpWorker(workerUrl: string, token: string, fetchFn: typeof fetch = (...a) => fetch(...a)): WorkerApi {
  const base = workerUrl.replace(/\/+$/, "");
  const post = async <T>(path: string, body: Record<string, unknown>): Promise<T> => {
    let res: Response;
    try {
      res = await fetchFn(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...body, connection: { token } }),
      });
    } catch (err) {
      throw new WorkerUnreachableError(`the Worker at ${base} is not reachable (${(err as Error).message}); check --worker-url`);
    }
    const text = await res.text();
    if (res.status !== 200) {
      const parsed = parseJson(text);
      const error = parsed.ok ? jsonObject(jsonObject(parsed.value)?.error) : null;
      const message = typeof error?.message === "string" ? error.message : text.slice(0, 300);
      const prefix =
        res.status === 401 || res.status === 403 ? "the Worker rejected the token" : `the Worker answered ${path} with HTTP ${res.status}`;
      throw new Error(`${prefix}: ${message}`);
    }
    return JSON.parse(text) as T;
  };
  return {
    tables: () => post("/table_list", {}),
    describe: (code) => post("/table_description", { table: code }),
  };
}
