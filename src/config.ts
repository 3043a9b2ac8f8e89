/**
 * The Worker's configuration, from wrangler vars and secrets, validated once
 * per request (cheap) so a typo in wrangler.toml is a clear CONFIG_INVALID
 * answer naming the variable, not a crash.
 */
import * as z from "zod";
import { SidecarSchema } from "./catalog/sidecar";
import { TABLE_CODE_MAX, TABLE_CODE_RE } from "./catalog/naming";
import { AppError } from "./http/errors";
import { DATE_FORMATS, type DateFormat } from "./values/types";

export interface Env {
  DATA: R2Bucket;
  CONNECTOR_TOKEN?: string;
  URL_TABLES?: string | unknown[];
  URL_ALLOWED_HOSTS?: string;
  URL_FETCH_TIMEOUT_MS?: string;
  /** The most bytes one URL table body may send (default 1 GiB). */
  URL_MAX_BYTES?: string;
  DEFAULT_DATE_FORMAT?: string;
  /** The portal allowed to install through POST /install. */
  PORTAL_URL?: string;
  /** Bearer token(s) for /files uploads (a secret, separate from CONNECTOR_TOKEN). */
  UPLOAD_TOKEN?: string;
  /** How many previous versions of each file uploads keep (default 5). */
  UPLOAD_KEEP_VERSIONS?: string;
  /** "1": log one line of figures per data request (bytes read, rows) for benchmarks. */
  LOG_STATS?: string;
}

export const UrlTableSchema = z
  .object({
    code: z.string().max(TABLE_CODE_MAX).regex(TABLE_CODE_RE, "must match ^[a-z][a-z0-9_]*$"),
    title: z.string().trim().min(1).refine((t) => t !== "0", "must not be \"0\" (the portal treats it as empty)"),
    url: z.url({ protocol: /^https?$/ }),
    format: z.enum(["csv", "tsv", "json", "ndjson"]),
    gzip: z.boolean().optional(),
    schema: SidecarSchema.optional(),
  })
  .strict();
export type UrlTable = z.infer<typeof UrlTableSchema>;

export interface Config {
  tokens: string[];
  urlTables: UrlTable[];
  allowedHosts: Set<string>;
  fetchTimeoutMs: number;
  urlMaxBytes: number;
  defaultDateFormat: DateFormat;
  logStats: boolean;
}

export const DEFAULT_URL_MAX_BYTES = 1024 * 1024 * 1024;

function configError(variable: string, detail: string): AppError {
  return new AppError("CONFIG_INVALID", 500, `Configuration variable ${variable} is invalid: ${detail}. Fix it in wrangler.toml ([vars]) and redeploy.`);
}

export function readConfig(env: Env): Config {
  const tokens = (env.CONNECTOR_TOKEN ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");

  let rawTables: unknown = env.URL_TABLES ?? [];
  if (typeof rawTables === "string") {
    try {
      rawTables = rawTables.trim() === "" ? [] : JSON.parse(rawTables);
    } catch (err) {
      throw configError("URL_TABLES", `not JSON (${(err as Error).message})`);
    }
  }
  const tables = z.array(UrlTableSchema).safeParse(rawTables);
  if (!tables.success) {
    const issue = tables.error.issues[0];
    throw configError("URL_TABLES", `${issue.path.join(".") || "(top level)"}: ${issue.message}`);
  }
  const codes = new Set<string>();
  for (const t of tables.data) {
    if (codes.has(t.code)) throw configError("URL_TABLES", `the code "${t.code}" is used twice`);
    codes.add(t.code);
  }

  const allowedHosts = new Set(
    (env.URL_ALLOWED_HOSTS ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== ""),
  );

  const timeout = Number(env.URL_FETCH_TIMEOUT_MS ?? "15000");
  if (!Number.isFinite(timeout) || timeout <= 0) throw configError("URL_FETCH_TIMEOUT_MS", "must be a positive number of milliseconds");

  const urlMaxBytes = Number(env.URL_MAX_BYTES ?? String(DEFAULT_URL_MAX_BYTES));
  if (!Number.isSafeInteger(urlMaxBytes) || urlMaxBytes <= 0) throw configError("URL_MAX_BYTES", "must be a positive whole number of bytes");

  const dateFormat = env.DEFAULT_DATE_FORMAT ?? "DD.MM.YYYY";
  if (!(DATE_FORMATS as readonly string[]).includes(dateFormat)) {
    throw configError("DEFAULT_DATE_FORMAT", `must be one of ${DATE_FORMATS.join(", ")}`);
  }

  return {
    tokens,
    urlTables: tables.data,
    allowedHosts,
    fetchTimeoutMs: timeout,
    urlMaxBytes,
    defaultDateFormat: dateFormat as DateFormat,
    logStats: env.LOG_STATS === "1",
  };
}
