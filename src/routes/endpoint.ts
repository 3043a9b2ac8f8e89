/**
 * The stages every route runs, composed once: the configuration (read once
 * per request by the Worker's entry, index.ts) → check the route can serve at all → decode the body → auth
 * (the route's strategy) → validate (the route's zod schema) → handle.
 * Auth comes before validation: a request without credentials gets 401
 * whatever else is wrong with it.
 */
import type * as z from "zod";
import type { AuthStrategy } from "../auth/strategy";
import { type Config, configOf, type Env, type RequestConfig } from "../config/config";
import { decodeBody, readBodyText } from "../request/body";
import { parsePhpForm } from "../request/php-form";
import { validate } from "../request/schemas";

/**
 * How the body is read before auth: the portal's form or JSON (the
 * connector endpoints), a form only (the portal's install calls), or not
 * at all (GET, and /files, whose body is the file, streamed by the handler).
 */
export type BodyKind = "form-or-json" | "form" | "none";

export interface Context<Principal> {
  request: Request;
  env: Env;
  config: Config;
  principal: Principal;
}

export interface EndpointSpec<S extends z.ZodType, Principal> {
  body: BodyKind;
  auth: AuthStrategy<Principal>;
  schema: S;
  /** Settings the route needs before it reads anything (a CONFIG_INVALID or *_NOT_CONFIGURED otherwise). */
  ready?: (config: Config) => void;
  handle: (req: z.infer<S>, ctx: Context<Principal>) => Promise<Response> | Response;
}

/** A route's handler. `config` is the request's configuration as the Worker's entry read it. */
export type RouteHandler = (request: Request, env: Env, config: RequestConfig) => Promise<Response>;

async function readBody(request: Request, kind: BodyKind): Promise<Record<string, unknown>> {
  if (kind === "none") return {};
  if (kind === "form") return parsePhpForm(await readBodyText(request));
  return decodeBody(request);
}

export function endpoint<S extends z.ZodType, Principal>(spec: EndpointSpec<S, Principal>): RouteHandler {
  return async (request, env, read) => {
    try {
      const config = configOf(read);
      spec.ready?.(config);
      const body = await readBody(request, spec.body);
      const principal = await spec.auth({ request, body, config, env });
      const req = validate(spec.schema, body);
      return await spec.handle(req, { request, env, config, principal });
    } catch (err) {
      // A request refused before its body was read: cancel the body instead of leaving it pending.
      if (request.body && !request.bodyUsed) await request.body.cancel().catch(() => {});
      throw err;
    }
  };
}
