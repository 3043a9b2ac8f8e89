/**
 * Worker entry: the routes the portal registers, and JSON errors for the rest.
 * Each POST runs decode (form or JSON) → validate (zod) → auth → its handler.
 */
import { Router, type IRequest } from "itty-router";
import { authorize } from "./auth/token";
import { readConfig, type Env } from "./config";
import { decodeBody } from "./decode/body";
import { guardBody } from "./http/drain";
import { AppError, errorResponse } from "./http/errors";
import { dataResponse } from "./routes/data";
import { installResponse } from "./routes/install";
import { filesResponse } from "./routes/files";
import { checkResponse, statusResponse, tableDescriptionResponse, tableListResponse } from "./routes/metadata";
import { CheckRequest, DataRequest, TableDescriptionRequest, TableListRequest, validate } from "./validate/requests";
import type * as z from "zod";

type Handler<S extends z.ZodType> = (req: z.infer<S>, env: Env, config: ReturnType<typeof readConfig>) => Promise<Response> | Response;

/** A POST endpoint: the shared decode → validate → auth steps, then `handle`. */
function endpoint<S extends z.ZodType>(schema: S, handle: Handler<S>) {
  return async (request: IRequest, env: Env): Promise<Response> => {
    const config = readConfig(env);
    const body = validate(schema, await decodeBody(request));
    await authorize(body as { connection?: Record<string, string>; token?: string }, config);
    return handle(body, env, config);
  };
}

const ROUTES: Record<string, string[]> = {
  "/": ["GET", "HEAD"],
  "/check": ["POST"],
  "/table_list": ["POST"],
  "/table_description": ["POST"],
  "/data": ["POST"],
  "/install": ["POST"],
};

const router = Router<IRequest, [Env, ExecutionContext]>({
  catch: errorResponse,
});

router
  .get("/", (_req, env) => statusResponse(readConfig(env)))
  // Monitors probe with HEAD; itty's get() does not match it. Same status, no body.
  .head("/", (_req, env) => new Response(null, { headers: statusResponse(readConfig(env)).headers }))
  .post("/check", endpoint(CheckRequest, (req, _env, config) => checkResponse(req.connection, config)))
  .post("/table_list", endpoint(TableListRequest, (req, env, config) => tableListResponse(req.searchString, env, config)))
  .post("/table_description", endpoint(TableDescriptionRequest, (req, env, config) => tableDescriptionResponse(req, env, config)))
  .post("/data", endpoint(DataRequest, (req, env, config) => dataResponse(req, env, config)))
  .post("/install", (request, env) => installResponse(request, env, readConfig(env)))
  .all("/files", (request, env) => filesResponse(request, env, readConfig(env)))
  .all("/files/*", (request, env) => filesResponse(request, env, readConfig(env)))
  .all("*", (request) => {
    const path = new URL(request.url).pathname;
    const allowed = ROUTES[path];
    if (allowed) {
      return errorResponse(new AppError("METHOD_NOT_ALLOWED", 405, `${request.method} is not allowed on ${path}; use ${allowed.join(" or ")}.`));
    }
    return errorResponse(new AppError("NOT_FOUND", 404, `There is no endpoint ${path}. The connector answers POST /check, /table_list, /table_description and /data.`));
  });

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    // A body an early answer left half-read is read to its end first (see http/drain.ts).
    const guarded = guardBody(request);
    const response = await router.fetch(guarded.request, env, ctx);
    await guarded.drain();
    return response;
  },
} satisfies ExportedHandler<Env>;
