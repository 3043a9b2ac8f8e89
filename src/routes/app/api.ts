/**
 * /app/api/*: the app page's own calls, each checked against the page's
 * session (auth/session.ts, header `x-app-session`), except the renewal,
 * which verifies a fresh portal token exactly as the frame's first open did.
 *
 *   GET  /app/api/tables            every table: title, code, source, size, rows, updated
 *   GET  /app/api/portal            the datasets' state in the portal (a dry run of the registration)
 *   GET  /app/api/table?code=       columns with an example, the first 20 rows as /data answers them, kept versions
 *   PUT  /app/api/upload?key=       PUT /files/<key> (the same checks), and the row count remembered for the list
 *   POST /app/api/sync              {tables?, prune?}: the registration for real (prune only after the page confirmed)
 *   GET  /app/api/health            the settings the Worker runs with, and what is missing
 *   POST /app/api/session           {AUTH_ID, member_id}: a new session for a fresh portal token (BX24.refreshAuth)
 *
 * Restoring and deleting go to /files/<key>/restore and DELETE /files/<key>
 * with the same session header.
 */

import * as z from "zod";
import { verifyPortalToken } from "../../auth/portal-token";
import { type AppSession, appSession, issueSession } from "../../auth/session";
import { findTable, listTables } from "../../catalog/catalog";
import { describedColumns, describeTable } from "../../catalog/describe";
import { manifestRows } from "../../catalog/manifest";
import { compiledForm } from "../../compiled/serve";
import { compileAfterUpload } from "../../compiled/triggers";
import type { Config, Env, RequestConfig } from "../../config/config";
import { AppError, errorBody, errorResponse, toAppError } from "../../errors";
import type { TableEntry } from "../../model";
import { answerQuery, answerValues } from "../../query/answer";
import { explain, type Summary } from "../../register/register";
import { PortalError } from "../../register/rest-client";
import { shownUrl } from "../../source/url";
import { listObjects } from "../../streams/r2-list";
import { checkKey } from "../../uploads/key";
import { withTableLock } from "../../uploads/lock";
import { uploadTable } from "../../uploads/upload-table";
import { listVersions } from "../../uploads/versions";
import { endpoint } from "../endpoint";
import { methodNotAllowed, type Route, router } from "../router";
import { withAppHeaders } from "./html";
import { runRegistration } from "./registration";

/** A portal refusal of the session's token: the page gets a fresh one from BX24 and renews the session. */
function portalCall<T>(work: () => Promise<T>): Promise<T> {
  return work().catch((err) => {
    if (err instanceof PortalError && /^(expired_token|invalid_token|EXPIRED_TOKEN|NO_AUTH_FOUND)$/.test(err.code)) {
      throw new AppError(
        "PORTAL_TOKEN_EXPIRED",
        "The portal's access token of this page has expired: the page asks the portal for a fresh one by itself; if it cannot, reload the application.",
      );
    }
    if (err instanceof PortalError) throw new AppError("PORTAL_UNAVAILABLE", `The portal refused or failed a call: ${explain(err)}`);
    throw err;
  });
}

async function tables(env: Env, config: Config): Promise<Response> {
  const entries = await listTables(env, config);
  const objects = new Map<string, R2Object>();
  for await (const o of listObjects(env.DATA)) if (!o.key.startsWith(".")) objects.set(o.key, o);
  // Row counts: what an upload through the Worker found, kept in the live version's manifest (catalog/manifest.ts).
  const counts = await Promise.all(
    entries.map((t) =>
      t.source.kind === "r2" && objects.has(t.source.key) ? manifestRows(env.DATA, t.source.key, objects.get(t.source.key)!.etag) : null,
    ),
  );
  return Response.json({
    tables: entries.map((t, i) => {
      if (t.source.kind === "url")
        return {
          code: t.code,
          title: t.title,
          source: { kind: "url", url: shownUrl(t.source.table.url) },
          size: null,
          rows: null,
          updated: null,
        };
      const o = objects.get(t.source.key);
      return {
        code: t.code,
        title: t.title,
        source: { kind: "r2", key: t.source.key },
        size: o?.size ?? null,
        rows: counts[i],
        updated: o?.uploaded.toISOString() ?? null,
      };
    }),
  });
}

/** The first 20 rows exactly as the portal's dataset preview gets them: /data's own answer, limit=20. */
async function preview(
  env: Env,
  config: Config,
  entry: TableEntry,
): Promise<{ rows: unknown[][] } | { error: { code: string; message: string } }> {
  try {
    const answer = await answerQuery({ env, config, entry }, { table: entry.code, limit: 20 }, { forms: [compiledForm] });
    return { rows: await answerValues(answer) };
  } catch (err) {
    return errorBody(toAppError(err));
  }
}

async function table(env: Env, config: Config, code: string): Promise<Response> {
  const entry = await findTable(env, config, code);
  const { description, bytes } = await describeTable(env, config, entry, { prefixOnly: true });
  await bytes.return(undefined);
  const rows = await preview(env, config, entry);
  const header = "rows" in rows ? ((rows.rows[0] ?? []) as string[]) : [];
  const body = "rows" in rows ? rows.rows.slice(1) : [];
  const example = (c: string) => {
    const i = header.indexOf(c);
    return i < 0 ? null : (body.find((r) => r[i] !== null && r[i] !== undefined)?.[i] ?? null);
  };
  const key = entry.source.kind === "r2" ? entry.source.key : null;
  return Response.json({
    code: entry.code,
    title: entry.title,
    source: entry.source.kind === "r2" ? { kind: "r2", key } : { kind: "url", url: shownUrl(entry.source.table.url) },
    columns: describedColumns(description).map((c) => ({ code: c.code, name: c.name, type: c.type, example: example(c.code) })),
    preview: rows,
    versions: key ? (await listVersions(env.DATA, key)).reverse() : [],
  });
}

async function upload(request: Request, env: Env, config: Config, url: URL): Promise<Response> {
  // The query is decoded already; checkKey decodes a path's percent-encoding, so the name is encoded once more for it.
  const { key, kind } = checkKey(encodeURIComponent(url.searchParams.get("key") ?? ""));
  if (kind !== "table") throw new AppError("KEY_INVALID", `The page uploads table files; put "${key}" with PUT /files/${key}.`);
  // Under the table's write lock and compiled afterwards, as PUT /files (routes/files/put-table.ts).
  return withTableLock(env, key, async (lease) => {
    const { report, created } = await uploadTable(request, env, config, key, lease, (entry, size) =>
      compileAfterUpload(env, config, entry, size),
    );
    return Response.json(report, { status: created ? 201 : 200 });
  });
}

const SyncRequest = z.strictObject({ tables: z.array(z.string().max(230)).max(1000).optional(), prune: z.boolean().optional() });

function summaryResponse(summary: Summary): Response {
  return Response.json({ lines: summary.lines, failed: summary.failed });
}

function health(config: Config): Response {
  const problems: { code: string; detail?: string }[] = [];
  if (config.tokens.length === 0) problems.push({ code: "CONNECTOR_TOKEN" });
  if (!config.workerUrl) problems.push({ code: "WORKER_URL" });
  for (const t of config.urlTables) {
    const { host, hostname } = new URL(t.url);
    if (!config.allowedHosts.has(host) && !config.allowedHosts.has(hostname))
      problems.push({ code: "URL_HOST", detail: `${t.code}: ${host}` });
  }
  return Response.json({
    settings: {
      PORTAL_URL: config.portal?.origin ?? null,
      BITRIX_CLIENT_ID: config.portal?.clientId ?? null,
      WORKER_URL: config.workerUrl,
      CONNECTOR_TOKEN: config.tokens.length > 0,
      UPLOAD_TOKEN: config.uploadTokens.length > 0,
      URL_TABLES: config.urlTables.map((t) => ({ code: t.code, title: t.title, host: new URL(t.url).host })),
      URL_ALLOWED_HOSTS: [...config.allowedHosts],
      DEFAULT_DATE_FORMAT: config.defaultDateFormat,
      UPLOAD_KEEP_VERSIONS: config.keepVersions,
    },
    problems,
  });
}

const RenewRequest = z.looseObject({ AUTH_ID: z.string().max(4096).optional(), member_id: z.string().max(128).optional() });

/** POST /app/api/session: a fresh portal token, verified like the frame's, for a new session. */
const renew = endpoint({
  body: "form-or-json",
  auth: async ({ body, config }) =>
    verifyPortalToken(config, typeof body.AUTH_ID === "string" ? body.AUTH_ID : undefined, { requireAdmin: true }),
  schema: RenewRequest,
  handle: async (req, { env, principal }) =>
    Response.json(await issueSession(env, principal.portal, principal.accessToken, req.member_id ?? "")),
});

const get = (
  handle: (session: AppSession, ctx: { request: Request; env: Env; config: Config; url: URL }) => Promise<Response> | Response,
) =>
  endpoint({
    body: "none",
    auth: appSession,
    schema: z.unknown(),
    handle: (_req, { request, env, config, principal }) => handle(principal, { request, env, config, url: new URL(request.url) }),
  });

/** One app call: its path, matched exactly. */
const call = (name: string) => new RegExp(`^/app/api/${name}$`);

const ROUTES: readonly Route<[Env, RequestConfig]>[] = [
  { path: call("tables"), handle: { GET: get((_s, { env, config }) => tables(env, config)) } },
  {
    path: call("portal"),
    handle: {
      GET: get((s, { env, config }) =>
        portalCall(() => runRegistration(env, config, s.portal, s.accessToken, { dryRun: true, skipInvalid: true })).then(summaryResponse),
      ),
    },
  },
  { path: call("table"), handle: { GET: get((_s, { env, config, url }) => table(env, config, url.searchParams.get("code") ?? "")) } },
  { path: call("upload"), handle: { PUT: get((_s, { request, env, config, url }) => upload(request, env, config, url)) } },
  {
    path: call("sync"),
    handle: {
      POST: endpoint({
        body: "form-or-json",
        auth: appSession,
        schema: SyncRequest,
        handle: (req, { env, config, principal }) =>
          portalCall(() => runRegistration(env, config, principal.portal, principal.accessToken, req)).then(summaryResponse),
      }),
    },
  },
  { path: call("health"), handle: { GET: get((_s, { config }) => health(config)) } },
  { path: call("session"), handle: { POST: renew } },
];

const apiRoutes = router<[Env, RequestConfig]>(ROUTES, (request, allowed) => {
  if (allowed) throw methodNotAllowed(request, allowed);
  const name = new URL(request.url).pathname.replace(/^\/app\/api\//, "");
  throw new AppError("NOT_FOUND", `There is no app call /app/api/${name}.`);
});

/** Every answer of the app's API, a refusal too, carries the page's security headers. */
export const appApi = async (request: Request, env: Env, config: RequestConfig): Promise<Response> => {
  const response = await apiRoutes(request, env, config).catch(errorResponse);
  return withAppHeaders(response, config.config);
};
