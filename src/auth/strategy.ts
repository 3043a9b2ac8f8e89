/**
 * One interface for every way a request proves who sent it. A route names
 * its strategy; the strategy runs as a stage after the body is decoded and
 * before it is validated, so a request without credentials is answered 401
 * whatever else is wrong with it (and a stranger learns nothing about the
 * request shapes). Each strategy resolves to what the handler may rely on
 * (nothing, or the verified portal user) or throws the refusal.
 */
import type { Config, Env } from "../config/config";
import { jsonObject } from "../values/json";

export interface Credentials {
  request: Request;
  /** The decoded body (form or JSON), not yet validated; empty for routes whose body is a file. */
  body: Record<string, unknown>;
  config: Config;
  env: Env;
}

export type AuthStrategy<Principal> = (credentials: Credentials) => Promise<Principal>;

/** Public routes (GET /): anyone may call them. */
export const anyone: AuthStrategy<void> = async () => {};

/**
 * A credential from an unvalidated body: the first of `values` that was sent,
 * as text ("" when it is not text or a JSON number, or when none was sent).
 */
export function textOf(...values: unknown[]): string {
  const value = values.find((v) => v !== undefined && v !== null);
  return typeof value === "string" || typeof value === "number" ? String(value).trim() : "";
}

/** A nested form or JSON object (`connection`), or an empty one. */
export const recordOf = (value: unknown): Record<string, unknown> => jsonObject(value) ?? {};
