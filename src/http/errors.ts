/**
 * Every failure the Worker reports is an AppError: a stable machine-readable
 * `code`, an HTTP status, and a message that says what was wrong and how to
 * fix it. The portal treats any non-200 as "connection unavailable", so the
 * message is for the human reading logs, curl output or the setup script.
 */
export type ErrorCode =
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "BODY_TOO_LARGE"
  | "BODY_INVALID"
  | "REQUEST_INVALID"
  | "TOKEN_NOT_CONFIGURED"
  | "TOKEN_MISSING"
  | "TOKEN_INVALID"
  | "PORTAL_AUTH_FAILED"
  | "PORTAL_UNAVAILABLE"
  | "CONFIG_INVALID"
  | "TABLE_NOT_FOUND"
  | "KEY_INVALID"
  | "UPLOAD_NOT_CONFIGURED"
  | "FILE_NOT_FOUND"
  | "VERSION_NOT_FOUND"
  | "UPLOAD_CONFLICT"
  | "TABLE_CODE_TAKEN"
  | "LENGTH_REQUIRED"
  | "UPLOAD_INCOMPLETE"
  | "FIELD_UNKNOWN"
  | "FILTER_INVALID"
  | "SCHEMA_INVALID"
  | "FILE_EMPTY"
  | "FILE_ENCODING_INVALID"
  | "FILE_GZIP_INVALID"
  | "FILE_GZIP_TOO_LARGE"
  | "CSV_MALFORMED"
  | "JSON_MALFORMED"
  | "FILE_CHANGED"
  | "URL_HOST_NOT_ALLOWED"
  | "URL_UNAVAILABLE"
  | "URL_TIMEOUT"
  | "URL_TOO_LARGE"
  | "INTERNAL";

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const badRequest = (code: ErrorCode, message: string) => new AppError(code, 400, message);
export const unprocessable = (code: ErrorCode, message: string) => new AppError(code, 422, message);

export function errorBody(err: AppError): { error: { code: ErrorCode; message: string } } {
  return { error: { code: err.code, message: err.message } };
}

/** Any thrown value becomes an AppError; unexpected ones never leak a stack trace. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  console.error("internal error", err);
  return new AppError(
    "INTERNAL",
    500,
    "Internal error while answering the request; the Worker log (`wrangler tail`) has the details.",
  );
}

export function errorResponse(err: unknown): Response {
  const e = toAppError(err);
  return Response.json(errorBody(e), { status: e.status });
}
