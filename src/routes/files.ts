/**
 * /files: updating data by uploading (Bearer UPLOAD_TOKEN).
 *
 *   GET    /files                       list table files and sidecars
 *   GET    /files/<key>/versions        kept versions of one file
 *   PUT    /files/<key>                 upload: streamed, validated, then made live
 *   DELETE /files/<key>                 delete (the file is kept as a version)
 *   POST   /files/<key>/restore         make a kept version live again
 *
 * An upload is checked while it streams in (every record parsed, as /data
 * would) and written to a multipart upload that only completes when the check
 * passed: a bad file is answered 422 and the live table is never touched.
 */
import { tokenMatches } from "../auth/token";
import { listTables, type TableEntry } from "../catalog/catalog";
import { describe, describeStream, loadDeclared } from "../catalog/describe";
import { inspectRows, schemaChange } from "../catalog/inspect";
import { checkKey } from "../catalog/keys";
import { assignTableCodes, SIDECAR_SUFFIX, tableKeyInfo, tableTitle } from "../catalog/naming";
import { parseSidecar } from "../catalog/sidecar";
import type { Config, Env } from "../config";
import { MAX_BODY_BYTES } from "../decode/body";
import { AppError } from "../http/errors";
import { readStream, type Bytes } from "../source/bytes";
import { gunzip } from "../source/open";
import { ObjectWriter } from "../files/writer";
import { keepVersion, listVersions, pruneVersions, restoreVersion, VERSIONS_PREFIX } from "../files/versions";

const DEFAULT_KEEP_VERSIONS = 5;
const FILES_ROUTE_HELP = "Use GET /files, PUT|DELETE /files/<key>, GET /files/<key>/versions or POST /files/<key>/restore.";

async function authorizeUpload(request: Request, env: Env): Promise<void> {
  const tokens = (env.UPLOAD_TOKEN ?? "").split(",").map((t) => t.trim()).filter(Boolean);
  if (tokens.length === 0) {
    throw new AppError("UPLOAD_NOT_CONFIGURED", 503, "Uploads are off: set a separate upload secret with `wrangler secret put UPLOAD_TOKEN`.");
  }
  const header = request.headers.get("authorization") ?? "";
  const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? "";
  if (given === "") throw new AppError("TOKEN_MISSING", 401, "Send the upload token as `Authorization: Bearer <UPLOAD_TOKEN>`.");
  if (!(await tokenMatches(given, tokens))) throw new AppError("TOKEN_INVALID", 403, "The upload token is wrong (it is UPLOAD_TOKEN, not the portal's CONNECTOR_TOKEN).");
}

function keepVersions(env: Env): number {
  const n = Number(env.UPLOAD_KEEP_VERSIONS ?? DEFAULT_KEEP_VERSIONS);
  return Number.isInteger(n) && n >= 0 ? n : DEFAULT_KEEP_VERSIONS;
}

/** The table entry a key has (or will have once uploaded). */
async function entryFor(env: Env, config: Config, key: string): Promise<TableEntry> {
  const tables = await listTables(env, config);
  const existing = tables.find((t) => t.source.kind === "r2" && t.source.key === key);
  if (existing) return existing;
  const keys = tables.flatMap((t) => (t.source.kind === "r2" ? [t.source.key] : []));
  const code = assignTableCodes([...keys, key], new Set(config.urlTables.map((t) => t.code))).get(key)!;
  return { code, title: tableTitle(key), source: { kind: "r2", key, ...tableKeyInfo(key)! } };
}

/** The current columns, for schema change detection (null when there is no readable live file). */
async function currentColumns(env: Env, config: Config, entry: TableEntry) {
  try {
    if (!(await env.DATA.head((entry.source as { key: string }).key))) return null;
    const { description, bytes } = await describe(env, config, entry, { prefixOnly: true });
    await bytes.return(undefined);
    return description.columns;
  } catch {
    return null;
  }
}

/** Passes the upload through, writing every chunk to R2 on the way (back-pressure included). */
async function* tee(source: Bytes, writer: ObjectWriter): Bytes {
  for await (const chunk of source) {
    await writer.write(chunk);
    yield chunk;
  }
}

async function putTable(request: Request, env: Env, config: Config, key: string): Promise<Response> {
  if (!request.body) throw new AppError("FILE_EMPTY", 422, "The upload has no body. Send the file, e.g. `curl -T sales.csv …`.");
  const entry = await entryFor(env, config, key);
  const declared = await loadDeclared(env, entry);
  const before = await currentColumns(env, config, entry);
  const info = tableKeyInfo(key)!;
  const contentType = info.gzip ? "application/gzip" : info.extension === "csv" || info.extension === "tsv" ? "text/csv" : "application/json";
  const writer = new ObjectWriter(env.DATA, key, { httpMetadata: { contentType } });
  let inspection;
  let description;
  try {
    const raw = tee(readStream(request.body), writer);
    const bytes = info.gzip ? gunzip(raw) : raw;
    const described = await describeStream(entry, bytes, declared.sidecar);
    description = described.description;
    inspection = await inspectRows(description, described.bytes);
  } catch (err) {
    await writer.abort();
    if (err instanceof AppError && err.status === 422) {
      throw new AppError(err.code, 422, `The upload to "${key}" was rejected and the live table is unchanged: ${err.message}`);
    }
    throw err;
  }
  const previous = await keepVersion(env.DATA, key);
  const object = await writer.finish();
  await pruneVersions(env.DATA, key, keepVersions(env));
  const change = schemaChange(before, description.columns);
  const notes: string[] = [];
  if (change?.added.length) notes.push(`New columns ${change.added.join(", ")}: run \`npm run setup\` to add them to the portal's dataset.`);
  if (change && (change.removed.length || change.retyped.length)) notes.push("Removed or retyped columns change the dataset: run `npm run setup -- --prune` to apply.");
  for (const m of inspection.misfits) {
    notes.push(`${m.count} value(s) in ${m.code} are not ${m.type} and will be served as empty (first: record ${m.firstRecord}, "${m.firstValue}").`);
  }
  return Response.json(
    {
      key,
      table: entry.code,
      size: object.size,
      etag: object.etag,
      rows: inspection.rows,
      columns: description.columns.map((c) => ({ code: c.code, name: c.name, type: c.type })),
      schemaChange: change,
      previousVersion: previous,
      notes,
    },
    { status: previous ? 200 : 201 },
  );
}

async function putSidecar(request: Request, env: Env, config: Config, key: string): Promise<Response> {
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw new AppError("BODY_TOO_LARGE", 413, `A schema file may be at most ${MAX_BODY_BYTES} bytes.`);
  const sidecar = parseSidecar(text, `uploaded as "${key}"`);
  // Check it against the table file it describes, when that exists.
  const tableKey = key.slice(0, -SIDECAR_SUFFIX.length);
  const obj = await env.DATA.get(tableKey);
  if (obj) {
    const entry = await entryFor(env, config, tableKey);
    const info = tableKeyInfo(tableKey)!;
    const raw = readStream(obj.body);
    const { bytes } = await describeStream(entry, info.gzip ? gunzip(raw) : raw, sidecar);
    await bytes.return(undefined);
  }
  const previous = await keepVersion(env.DATA, key);
  const object = await env.DATA.put(key, text, { httpMetadata: { contentType: "application/json" } });
  await pruneVersions(env.DATA, key, keepVersions(env));
  return Response.json({ key, size: object!.size, etag: object!.etag, previousVersion: previous }, { status: previous ? 200 : 201 });
}

async function listFiles(env: Env, config: Config): Promise<Response> {
  const tables = await listTables(env, config);
  const files: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.DATA.list({ cursor });
    for (const o of page.objects) {
      if (o.key.startsWith(VERSIONS_PREFIX)) continue;
      const table = tables.find((t) => t.source.kind === "r2" && t.source.key === o.key);
      const sidecar = o.key.toLowerCase().endsWith(SIDECAR_SUFFIX);
      if (!table && !sidecar) continue;
      files.push({ key: o.key, table: table?.code ?? null, kind: sidecar ? "schema" : "table", size: o.size, etag: o.etag, uploaded: o.uploaded.toISOString() });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return Response.json(files);
}

export async function filesResponse(request: Request, env: Env, config: Config): Promise<Response> {
  await authorizeUpload(request, env);
  const url = new URL(request.url);
  const path = url.pathname.replace(/^\/files\/?/, "");
  const method = request.method;
  if (path === "") {
    if (method === "GET") return listFiles(env, config);
    throw new AppError("METHOD_NOT_ALLOWED", 405, `${method} /files is not allowed. ${FILES_ROUTE_HELP}`);
  }
  const versions = /^(.*)\/versions$/.exec(path);
  const restore = /^(.*)\/restore$/.exec(path);
  if (versions && method === "GET") {
    const { key } = checkKey(versions[1]);
    return Response.json(await listVersions(env.DATA, key));
  }
  if (restore && method === "POST") {
    const { key } = checkKey(restore[1]);
    const body = (await request.text()).trim();
    let version = url.searchParams.get("version") ?? undefined;
    if (!version && body) {
      try {
        version = (JSON.parse(body) as { version?: string }).version;
      } catch {
        version = new URLSearchParams(body).get("version") ?? undefined;
      }
    }
    const r = await restoreVersion(env.DATA, key, version);
    await pruneVersions(env.DATA, key, keepVersions(env));
    return Response.json({ key, restored: r.restored, previousVersion: r.kept, size: r.object.size, etag: r.object.etag });
  }
  const { key, kind } = checkKey(path);
  if (method === "PUT") return kind === "sidecar" ? putSidecar(request, env, config, key) : putTable(request, env, config, key);
  if (method === "DELETE") {
    if (!(await env.DATA.head(key))) throw new AppError("FILE_NOT_FOUND", 404, `There is no file "${key}".`);
    const kept = await keepVersion(env.DATA, key);
    await env.DATA.delete(key);
    await pruneVersions(env.DATA, key, Math.max(1, keepVersions(env)));
    return Response.json({ key, deleted: true, previousVersion: kept });
  }
  throw new AppError("METHOD_NOT_ALLOWED", 405, `${method} is not allowed on /files/${path}. ${FILES_ROUTE_HELP}`);
}
