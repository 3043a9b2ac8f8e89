/**
 * Worker entry: the route table, and JSON errors for everything else. Each
 * route's handler runs the shared stages (routes/endpoint.ts): config →
 * decode → auth → validate → its handler.
 */
import { logEvent } from "./log";
import { Router, type IRequest } from "itty-router";
import { readConfig, type Env } from "./config/config";
import { compileChanged } from "./compiled/triggers";
import { guardBody } from "./request/drain";
import { AppError, errorResponse } from "./errors";
import { data } from "./routes/data";
import type { RouteHandler } from "./routes/endpoint";
import { files } from "./routes/files/index";
import { appApi, appAsset, appPage } from "./routes/app/index";
import { install } from "./routes/install";
import { check, status, tableDescription, tableList } from "./routes/metadata";
import { PORTAL_ENDPOINTS } from "./model";

// The Durable Object class every table write locks (wrangler.jsonc binds it as TABLE_LOCK).
export { TableLock } from "./uploads/lock";

interface Route {
  path: string;
  /** null: any method (the handler routes the methods itself). */
  methods: readonly string[] | null;
  handler: RouteHandler;
}

/** Every endpoint the Worker answers. */
const ROUTES: readonly Route[] = [
  { path: "/", methods: ["GET", "HEAD"], handler: status },
  { path: PORTAL_ENDPOINTS.urlCheck, methods: ["POST"], handler: check },
  { path: PORTAL_ENDPOINTS.urlTableList, methods: ["POST"], handler: tableList },
  { path: PORTAL_ENDPOINTS.urlTableDescription, methods: ["POST"], handler: tableDescription },
  { path: PORTAL_ENDPOINTS.urlData, methods: ["POST"], handler: data },
  { path: "/install", methods: ["POST"], handler: install },
  { path: "/app", methods: ["GET", "POST"], handler: appPage },
  { path: "/app/app.js", methods: ["GET"], handler: appAsset },
  { path: "/app/app.css", methods: ["GET"], handler: appAsset },
  { path: "/app/api/*", methods: null, handler: appApi },
  { path: "/files", methods: null, handler: files },
  { path: "/files/*", methods: null, handler: files },
];

const PORTAL_PATHS = Object.values(PORTAL_ENDPOINTS);

const router = Router<IRequest, [Env, ExecutionContext]>({ catch: errorResponse });

/** HEAD (monitors probe with it): the GET answer's status and headers, no body. */
const headOf = (response: Response) => new Response(null, { status: response.status, headers: response.headers });

for (const route of ROUTES) {
  router.all(route.path, async (request, env) => {
    if (route.methods !== null && !route.methods.includes(request.method)) return undefined;
    const response = await route.handler(request, env);
    return request.method === "HEAD" ? headOf(response) : response;
  });
}

router.all("*", (request) => {
  const path = new URL(request.url).pathname;
  const allowed = ROUTES.find((r) => r.path === path)?.methods;
  if (allowed) {
    return errorResponse(new AppError("METHOD_NOT_ALLOWED", `${request.method} is not allowed on ${path}; use ${allowed.join(" or ")}.`));
  }
  const list = `${PORTAL_PATHS.slice(0, -1).join(", ")} and ${PORTAL_PATHS[PORTAL_PATHS.length - 1]}`;
  return errorResponse(new AppError("NOT_FOUND", `There is no endpoint ${path}. The connector answers POST ${list}.`));
});

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    // A body an early answer left half-read is read to its end first (see http/drain.ts).
    const guarded = guardBody(request);
    const response = await router.fetch(guarded.request, env, ctx);
    await guarded.drain();
    return response;
  },
  /** The Cron Trigger (wrangler.jsonc "triggers"): compiles tables whose live version has no compiled form yet. */
  async scheduled(_controller: ScheduledController, env: Env): Promise<void> {
    const done = await compileChanged(env, readConfig(env));
    for (const { code, result } of done) {
      // A failure's reason can quote the file's content: the log keeps its error code only.
      const figures = result.status === "compiled" ? { rows: result.rows, groups: result.groups, bytes: result.dataSize } : result.status === "skipped" ? { reason: result.reason } : { error: result.error };
      logEvent("compile", { table: code, status: result.status, ...figures }, result.status === "failed" ? "error" : "info");
    }
  },
} satisfies ExportedHandler<Env>;
