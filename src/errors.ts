/**
 * Every failure the Worker reports is an AppError: a stable machine-readable
 * `code` and a message that says what was wrong and how to fix it. The HTTP
 * status belongs to the code (STATUS below, the one table of them), so a
 * parser raises a domain error ("CSV_MALFORMED") and never picks a status.
 * The portal treats any non-200 as "connection unavailable", so the message
 * is for the human reading logs, curl output or the setup script.
 */

import { logEvent } from "./log";

/** Each error code's HTTP status: docs/reference.md's Errors table. */
export const STATUS = {
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  BODY_INVALID: 400,
  REQUEST_INVALID: 400,
  TOKEN_NOT_CONFIGURED: 503,
  TOKEN_MISSING: 401,
  TOKEN_INVALID: 403,
  PORTAL_AUTH_FAILED: 403,
  PORTAL_UNAVAILABLE: 502,
  SESSION_INVALID: 401,
  SESSION_EXPIRED: 401,
  PORTAL_TOKEN_EXPIRED: 401,
  CONFIG_INVALID: 500,
  TABLE_NOT_FOUND: 404,
  KEY_INVALID: 400,
  UPLOAD_NOT_CONFIGURED: 503,
  FILE_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  UPLOAD_CONFLICT: 409,
  WRITE_IN_PROGRESS: 409,
  TABLE_CODE_TAKEN: 409,
  LENGTH_REQUIRED: 411,
  UPLOAD_INCOMPLETE: 422,
  FIELD_UNKNOWN: 400,
  FILTER_INVALID: 400,
  SCHEMA_INVALID: 422,
  FILE_EMPTY: 422,
  FILE_NOT_TABLE: 422,
  FILE_ENCODING_INVALID: 422,
  FILE_GZIP_INVALID: 422,
  FILE_GZIP_TOO_LARGE: 422,
  CSV_MALFORMED: 422,
  JSON_MALFORMED: 422,
  XLSX_MALFORMED: 422,
  XLSX_TOO_LARGE: 422,
  XLSX_NEEDS_RANDOM_ACCESS: 422,
  FORMAT_UNSUPPORTED: 422,
  FILE_FORMAT_MISMATCH: 422,
  FILE_CHANGED: 409,
  URL_HOST_NOT_ALLOWED: 403,
  URL_UNAVAILABLE: 502,
  URL_TIMEOUT: 504,
  URL_TOO_LARGE: 502,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof STATUS;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AppError";
  }

  get status(): number {
    return STATUS[this.code];
  }
}

/** The first issue of a zod error as "path: message" (`topLevel` names an empty path). */
export function firstIssue(
  error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] },
  topLevel = "(top level)",
): { where: string; message: string } {
  const issue = error.issues[0];
  return { where: issue.path.length > 0 ? issue.path.map(String).join(".") : topLevel, message: issue.message };
}

/** The JSON body of every error: an error answer, and the `!ERROR` trailer of a data answer cut short. */
export function errorBody(err: AppError): { error: { code: ErrorCode; message: string } } {
  return { error: { code: err.code, message: err.message } };
}

/** Any thrown value becomes an AppError; unexpected ones never leak a stack trace. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  logEvent("internal_error", { name: e.name, message: e.message, stack: e.stack ?? null }, "error");
  return new AppError("INTERNAL", "Internal error while answering the request; the Worker log (`wrangler tail`) has the details.");
}

export function errorResponse(err: unknown): Response {
  const e = toAppError(err);
  // The code and status only: a message can quote a request's values or a file's cells.
  logEvent("refused", { code: e.code, status: e.status });
  return Response.json(errorBody(e), { status: e.status });
}
