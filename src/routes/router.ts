/**
 * The one routing mechanism: a table of routes made into an itty-router
 * Router. The Worker's table (index.ts) mounts the sub-routers of /files and
 * /app/api, which are tables of the same kind, each with its own answer for a
 * request no route takes (`unmatched`).
 */
import { Router } from "itty-router";
import { AppError } from "../errors";

/** A handler of one route; `args` are what the router was called with after the request. */
export type Handler<Args extends unknown[]> = (request: Request, ...args: Args) => Promise<Response>;

export interface Route<Args extends unknown[]> {
  /**
   * itty-router's pattern (`/files/*`: also with a trailing slash), or a
   * RegExp for a path matched exactly; its named groups are the request's
   * `params`, as they are in the URL (percent-encoded).
   */
  path: string | RegExp;
  /** A handler per method; a method not listed goes on to the next route. One handler: every method (a sub-router). */
  handle: Readonly<Record<string, Handler<Args>>> | Handler<Args>;
}

/**
 * What to answer when no route took the request: `allowed` lists the methods
 * of the route whose path is exactly the request's (null: none), for a 405.
 */
export type Unmatched<Args extends unknown[]> = (
  request: Request,
  allowed: readonly string[] | null,
  ...args: Args
) => Promise<Response> | Response;

/** The request's path parameters (a Route's named groups), as itty-router sets them. */
export const paramsOf = (request: Request): Record<string, string> =>
  (request as Request & { params?: Record<string, string> }).params ?? {};

/** 405 for a path whose route takes other methods. */
export function methodNotAllowed(request: Request, allowed: readonly string[]): AppError {
  return new AppError(
    "METHOD_NOT_ALLOWED",
    `${request.method} is not allowed on ${new URL(request.url).pathname}; use ${allowed.join(" or ")}.`,
  );
}

/** The routes as one handler: the first route whose path and method match answers, else `unmatched`. Errors propagate to the caller. */
export function router<Args extends unknown[]>(routes: readonly Route<Args>[], unmatched: Unmatched<Args>): Handler<Args> {
  const itty = Router<Request & { params: Record<string, string> }, Args>();
  for (const route of routes) {
    const { handle } = route;
    const take = (request: Request, ...args: Args) => {
      if (typeof handle === "function") return handle(request, ...args);
      return Object.hasOwn(handle, request.method) ? handle[request.method](request, ...args) : undefined;
    };
    if (typeof route.path === "string") itty.all(route.path, take);
    else itty.routes.push(["ALL", route.path, [take], route.path.source]);
  }
  const exactly = (path: string) => routes.find((r) => (typeof r.path === "string" ? r.path === path : r.path.test(path)));
  itty.all("*", (request: Request, ...args: Args) => {
    const route = exactly(new URL(request.url).pathname);
    const allowed = route && typeof route.handle !== "function" ? Object.keys(route.handle) : null;
    return unmatched(request, allowed, ...args);
  });
  return async (request, ...args) => (await itty.fetch(request, ...args)) as Response;
}
