/**
 * Worker entry: the route table, and JSON errors for everything else. Each
 * route's handler runs the shared stages (routes/endpoint.ts): config →
 * decode → auth → validate → its handler.
 */

import { compileChanged } from "./compiled/triggers";
import { type Env, type RequestConfig, readConfig, readRequestConfig } from "./config/config";
import { AppError, errorResponse } from "./errors";
import { logEvent } from "./log";
import { PORTAL_ENDPOINTS } from "./model";
import { guardBody } from "./request/drain";
import { appApi, appAsset, appPage } from "./routes/app/index";
import { data } from "./routes/data";
import { files } from "./routes/files/index";
import { install } from "./routes/install";
import { check, status, tableDescription, tableList } from "./routes/metadata";
import { type Handler, methodNotAllowed, type Route, router } from "./routes/router";

// The Durable Object class every table write locks (wrangler.jsonc binds it as TABLE_LOCK).
export { TableLock } from "./uploads/lock";

/** What every route is called with after the request: the bindings and the configuration, read once. */
type Args = [Env, RequestConfig];

/** HEAD (monitors probe with it): the GET answer's status and headers, no body. */
const headOf = (response: Response) => new Response(null, { status: response.status, headers: response.headers });
const withHead =
  (handler: Handler<Args>): Handler<Args> =>
  async (request, env, config) => {
    const response = await handler(request, env, config);
    return request.method === "HEAD" ? headOf(response) : response;
  };

/** Every endpoint the Worker answers; /files and /app/api are sub-routers (routes/router.ts). */
const ROUTES: readonly Route<Args>[] = [
  { path: "/", handle: { GET: status, HEAD: withHead(status) } },
  { path: PORTAL_ENDPOINTS.urlCheck, handle: { POST: check } },
  { path: PORTAL_ENDPOINTS.urlTableList, handle: { POST: tableList } },
  { path: PORTAL_ENDPOINTS.urlTableDescription, handle: { POST: tableDescription } },
  { path: PORTAL_ENDPOINTS.urlData, handle: { POST: data } },
  { path: "/install", handle: { POST: install } },
  { path: "/app", handle: { GET: appPage, POST: appPage } },
  { path: "/app/app.js", handle: { GET: appAsset } },
  { path: "/app/app.css", handle: { GET: appAsset } },
  { path: "/app/api/*", handle: withHead(appApi) },
  { path: "/files", handle: withHead(files) },
  { path: "/files/*", handle: withHead(files) },
];

const PORTAL_PATHS = Object.values(PORTAL_ENDPOINTS);

const routes = router<Args>(ROUTES, (request, allowed) => {
  if (allowed) throw methodNotAllowed(request, allowed);
  const path = new URL(request.url).pathname;
  const list = `${PORTAL_PATHS.slice(0, -1).join(", ")} and ${PORTAL_PATHS[PORTAL_PATHS.length - 1]}`;
  throw new AppError("NOT_FOUND", `There is no endpoint ${path}. The connector answers POST ${list}.`);
});

export default {
  async fetch(request: Request, env: Env, _ctx: ExecutionContext): Promise<Response> {
    // A body an early answer left half-read is read to its end first (request/drain.ts).
    const guarded = guardBody(request);
    // Read once here and passed down to every route.
    const config = readRequestConfig(env);
    const response = await routes(guarded.request, env, config).catch(errorResponse);
    await guarded.drain();
    return response;
  },
  /** The Cron Trigger (wrangler.jsonc "triggers"): compiles tables whose live version has no compiled form yet. */
  async scheduled(_controller: ScheduledController, env: Env): Promise<void> {
    const done = await compileChanged(env, readConfig(env));
    for (const { code, result } of done) {
      // A failure's reason can quote the file's content: the log keeps its error code only.
      const figures =
        result.status === "compiled"
          ? { rows: result.rows, groups: result.groups, bytes: result.dataSize }
          : result.status === "skipped"
            ? { reason: result.reason }
            : { error: result.error };
      logEvent("compile", { table: code, status: result.status, ...figures }, result.status === "failed" ? "error" : "info");
    }
  },
} satisfies ExportedHandler<Env>;
