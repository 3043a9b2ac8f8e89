/**
 * The Worker's configuration, from wrangler vars and secrets: the one place
 * that reads `env` variables. Validated on each request (cheap) so a typo in
 * wrangler.jsonc is a clear CONFIG_INVALID answer naming the variable, never a
 * crash and never a silently ignored value. Messages name the variable and
 * what is wrong with it, but never echo its content: they may reach a caller
 * who is not entitled to see the configuration.
 */
import * as z from "zod";
import { AppError, firstIssue } from "../errors";
import { FORMATS } from "../formats/registry";
import type { DateFormat, UrlTable } from "../model";
import { TABLE_CODE_MAX, TABLE_CODE_RE } from "../rules/naming";
import { SidecarSchema } from "../rules/sidecar";
import { parseJson } from "../values/json";
import { DATE_FORMAT_HELP, normaliseDateFormat } from "../values/types";

/**
 * The Worker's bindings, vars and secrets: generated from wrangler.jsonc by
 * `npm run types` into worker-configuration.d.ts, the secrets' names declared
 * in src/secrets.d.ts; .ci/run checks that both are current. Everything in it is read by readConfig.
 */
export type Env = Cloudflare.Env;

export const UrlTableSchema = z
  .object({
    code: z.string().max(TABLE_CODE_MAX).regex(TABLE_CODE_RE, "must match ^[a-z][a-z0-9_]*$"),
    title: z
      .string()
      .trim()
      .min(1)
      .refine((t) => t !== "0", 'must not be "0" (the portal treats it as empty)'),
    url: z.url({ protocol: /^https?$/ }),
    // A workbook is a zip read with range reads of a stored object: URL tables stream.
    format: z.enum(FORMATS.extensions).refine((f) => !FORMATS.formatOf(f)?.randomAccess, {
      message:
        'a workbook (xlsx, xlsm) is read from the bucket only, since a zip needs range reads of the stored file: upload it with PUT /files, or publish the sheet as CSV and declare format "csv"',
    }),
    gzip: z.boolean().optional(),
    schema: SidecarSchema.optional(),
  })
  .strict() satisfies z.ZodType<UrlTable>;

/** The portal this Worker is bound to, when PORTAL_URL and BITRIX_CLIENT_ID are set. */
export interface PortalConfig {
  /** `https://example.bitrix24.com`: the only address the Worker ever calls REST on. */
  origin: string;
  /** `example.bitrix24.com` (with a port when there is one). */
  host: string;
  clientId: string;
}

export interface Config {
  tokens: string[];
  uploadTokens: string[];
  keepVersions: number;
  urlTables: UrlTable[];
  allowedHosts: Set<string>;
  fetchTimeoutMs: number;
  urlMaxBytes: number;
  defaultDateFormat: DateFormat;
  /** Missing settings are listed in `portalMissing` instead (portal features are optional). */
  portal: PortalConfig | null;
  portalMissing: string[];
  /** The Worker's public origin (no trailing slash), or null when WORKER_URL is not set. */
  workerUrl: string | null;
  logStats: boolean;
}

export const DEFAULT_KEEP_VERSIONS = 5;
export const DEFAULT_URL_MAX_BYTES = 1024 * 1024 * 1024;

export function configError(variable: string, detail: string): AppError {
  return new AppError(
    "CONFIG_INVALID",
    `Configuration variable ${variable} is invalid: ${detail}. Fix it in wrangler.jsonc ("vars") or with \`npm run deploy -- --set NAME=value\` (a secret), and redeploy.`,
  );
}

const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");

/** An http(s) origin, or a CONFIG_INVALID naming the variable (the value itself is not echoed). */
/** A host on this machine: where `npm run portal` and the tests run a portal; no real portal or Worker is there. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function originOf(variable: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(variable, "it is not an absolute address; write it with the scheme, like https://example.bitrix24.com");
  }
  // Administrators' portal tokens travel to and from these addresses: plain http only on this machine.
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname)))
    throw configError(variable, "it must start with https:// (http:// only for an address on this machine, like http://127.0.0.1:8790)");
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) {
    throw configError(variable, "it must be only the scheme and host (no path, query or credentials), like https://example.bitrix24.com");
  }
  return url;
}

function readUrlTables(raw: string | unknown[] | undefined): UrlTable[] {
  let value: unknown = raw ?? [];
  if (typeof value === "string") {
    const parsed = value.trim() === "" ? { ok: true as const, value: [] } : parseJson(value);
    // The parser's message quotes the text: keep it out of the answer.
    if (!parsed.ok) throw configError("URL_TABLES", "it is not valid JSON (expected an array of {code, title, url, format} objects)");
    value = parsed.value;
  }
  const tables = z.array(UrlTableSchema).safeParse(value);
  if (!tables.success) {
    const { where, message } = firstIssue(tables.error);
    throw configError("URL_TABLES", `${where}: ${message}`);
  }
  const codes = new Set<string>();
  for (const t of tables.data) {
    if (codes.has(t.code)) throw configError("URL_TABLES", `a table code is used twice (entry ${tables.data.indexOf(t)})`);
    codes.add(t.code);
  }
  return tables.data;
}

function readPortal(env: Env): { portal: PortalConfig | null; missing: string[] } {
  const portalUrl = (env.PORTAL_URL ?? "").trim();
  const clientId = (env.BITRIX_CLIENT_ID ?? "").trim();
  const origin = portalUrl === "" ? null : originOf("PORTAL_URL", portalUrl);
  if (clientId !== "" && !/^[\w.-]{1,128}$/.test(clientId)) {
    throw configError(
      "BITRIX_CLIENT_ID",
      "it must be the local application's code as the portal shows it, like local.5f1a2b3c4d5e6f.12345678",
    );
  }
  const missing = [...(origin ? [] : ["PORTAL_URL"]), ...(clientId ? [] : ["BITRIX_CLIENT_ID"])];
  if (!origin || !clientId) return { portal: null, missing };
  return { portal: { origin: origin.origin, host: origin.host.toLowerCase(), clientId }, missing };
}

/**
 * The configuration as read once for a request and passed down: `config`, or
 * null and the error when a setting is invalid (the app's pages still answer,
 * naming the setting; every other route refuses with the error).
 */
export type RequestConfig = { config: Config; error?: undefined } | { config: null; error: unknown };

export function readRequestConfig(env: Env): RequestConfig {
  try {
    return { config: readConfig(env) };
  } catch (error) {
    return { config: null, error };
  }
}

/** The configuration, or the reason it is invalid thrown. */
export function configOf(read: RequestConfig): Config {
  if (read.config) return read.config;
  throw read.error;
}

export function readConfig(env: Env): Config {
  const timeout = Number(env.URL_FETCH_TIMEOUT_MS ?? "15000");
  if (!Number.isFinite(timeout) || timeout <= 0) throw configError("URL_FETCH_TIMEOUT_MS", "it must be a positive number of milliseconds");

  const urlMaxBytes = Number(env.URL_MAX_BYTES ?? String(DEFAULT_URL_MAX_BYTES));
  if (!Number.isSafeInteger(urlMaxBytes) || urlMaxBytes <= 0)
    throw configError("URL_MAX_BYTES", "it must be a positive whole number of bytes");

  const dateFormat = normaliseDateFormat(env.DEFAULT_DATE_FORMAT);
  if (dateFormat === null) throw configError("DEFAULT_DATE_FORMAT", `it must be one of ${DATE_FORMAT_HELP}`);

  const keepRaw = (env.UPLOAD_KEEP_VERSIONS ?? "").trim();
  const keepVersions = keepRaw === "" ? DEFAULT_KEEP_VERSIONS : Number(keepRaw);
  if (!Number.isInteger(keepVersions) || keepVersions < 0 || keepVersions > 1000) {
    throw configError("UPLOAD_KEEP_VERSIONS", "it must be a whole number from 0 to 1000");
  }

  const workerRaw = (env.WORKER_URL ?? "").trim();
  const workerUrl = workerRaw === "" ? null : originOf("WORKER_URL", workerRaw).origin;
  const { portal, missing } = readPortal(env);

  return {
    tokens: list(env.CONNECTOR_TOKEN),
    uploadTokens: list(env.UPLOAD_TOKEN),
    keepVersions,
    urlTables: readUrlTables(env.URL_TABLES),
    allowedHosts: new Set(list(env.URL_ALLOWED_HOSTS).map((h) => h.toLowerCase())),
    fetchTimeoutMs: timeout,
    urlMaxBytes,
    defaultDateFormat: dateFormat ?? "DD.MM.YYYY",
    portal,
    portalMissing: missing,
    workerUrl,
    logStats: env.LOG_STATS === "1",
  };
}
