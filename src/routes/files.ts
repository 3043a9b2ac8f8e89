/**
 * /files: updating data by uploading (Bearer UPLOAD_TOKEN).
 *
 *   GET    /files                       list table files and sidecars
 *   GET    /files/<key>                 the live file as stored (streamed)
 *   GET    /files/<key>/versions        kept versions of one file
 *   PUT    /files/<key>                 upload: streamed, validated, then made live
 *   DELETE /files/<key>                 delete (the file is kept as a version)
 *   POST   /files/<key>/restore         make a kept version live again
 *
 * An upload is checked while it streams in (every record parsed, as /data
 * would) and written to a multipart upload that only completes when the check
 * passed: a bad file is answered 422 and the live table is never touched.
 * It must declare its size (Content-Length) or its SHA-256 (x-content-sha256),
 * and is refused unless what arrived matches: a sender that died between two
 * records would otherwise leave a valid but partial table. Replacing keeps
 * the old object as a version with a conditional write (versions.ts), and an
 * upload never changes another table's code.
 */
import * as z from "zod";
import { uploadBearer } from "../auth/upload";
import { listTables } from "../catalog/catalog";
import { describe, describeStream, loadDeclared } from "../catalog/describe";
import { inspectRows, schemaChange } from "../catalog/inspect";
import { checkKey } from "../rules/upload-key";
import { assignTableCodes, SIDECAR_SUFFIX, storedContentType, tableKeyInfo, tableTitle } from "../rules/naming";
import { parseSidecar } from "../rules/sidecar";
import type { Config, Env } from "../config/config";
import { readBodyText } from "../request/body";
import { AppError } from "../errors";
import { readStream, type Bytes } from "../streams/bytes";
import { gunzip } from "../source/open";
import { ObjectWriter } from "../files/writer";
import { deleteKeeping, listVersions, pruneVersions, replaceKeeping, restoreVersion, VERSIONS_PREFIX } from "../files/versions";
import { endpoint } from "./endpoint";
import type { TableEntry } from "../model";

const FILES_ROUTE_HELP = "Use GET /files, GET|PUT|DELETE /files/<key>, GET /files/<key>/versions or POST /files/<key>/restore.";

/** The first key that adding `key` would give another table's code, with both codes. */
function codeTakenFrom(keys: string[], key: string, reserved: Set<string>): { other: string; code: string; becomes: string } | null {
  const before = assignTableCodes(keys, reserved);
  const after = assignTableCodes([...keys, key], reserved);
  for (const other of keys) {
    if (before.get(other) !== after.get(other)) return { other, code: before.get(other)!, becomes: after.get(other)! };
  }
  return null;
}

/**
 * The table entry a key has, or will have once uploaded (`verb` says how:
 * "Uploading", "Restoring"). A new key must not change any existing table's
 * code: the lexicographically first key keeps a plain code, so `Sales.csv`
 * would take `sales` from `sales.csv` and the portal's dataset on `sales`
 * would silently read the other file. That is refused with 409.
 */
async function entryFor(env: Env, config: Config, key: string, verb = "Uploading"): Promise<TableEntry> {
  const tables = await listTables(env, config);
  const existing = tables.find((t) => t.source.kind === "r2" && t.source.key === key);
  if (existing) return existing;
  const keys = tables.flatMap((t) => (t.source.kind === "r2" ? [t.source.key] : []));
  const reserved = new Set(config.urlTables.map((t) => t.code));
  const taken = codeTakenFrom(keys, key, reserved);
  if (taken) {
    let suggestion = "";
    for (let n = 2; n < 100 && !suggestion; n++) {
      const candidate = key.replace(/(\.[a-z]+)(\.gz)?$/i, `_${n}$1$2`);
      if (!keys.includes(candidate) && !codeTakenFrom(keys, candidate, reserved)) suggestion = candidate;
    }
    throw new AppError(
      "TABLE_CODE_TAKEN",
      `${verb} "${key}" would take the table code "${taken.code}" from "${taken.other}" (which would become "${taken.becomes}"), and whatever the portal built on "${taken.code}" would read the other file. Nothing was changed. Choose another name for the file (its table code is the key in lower case with other characters as "_", without the extension)${suggestion ? `, e.g. "${suggestion}"` : ""}, or delete "${taken.other}" first.`,
    );
  }
  const code = assignTableCodes([...keys, key], reserved).get(key)!;
  return { code, title: tableTitle(key), source: { kind: "r2", key, ...tableKeyInfo(key)! } };
}

/** What an upload declared about its body: its length, its SHA-256, or both. */
interface Declared {
  length?: number;
  sha256?: string;
}

const SHA256_HEADER = "x-content-sha256";

function declaredBody(request: Request): Declared {
  const out: Declared = {};
  const length = request.headers.get("content-length");
  if (length !== null) {
    if (!/^\d{1,15}$/.test(length.trim())) throw new AppError("REQUEST_INVALID", `Content-Length "${length}" is not a byte count.`);
    out.length = Number(length.trim());
  }
  const sum = request.headers.get(SHA256_HEADER);
  if (sum !== null) {
    if (!/^[0-9a-f]{64}$/i.test(sum.trim())) throw new AppError("REQUEST_INVALID", `${SHA256_HEADER} must be the body's SHA-256 as 64 hex digits (\`sha256sum file\`), not "${sum}".`);
    out.sha256 = sum.trim().toLowerCase();
  }
  if (out.length === undefined && out.sha256 === undefined) {
    throw new AppError(
      "LENGTH_REQUIRED",
      `An upload must declare its size or checksum, so that a cut-off upload is never taken for the whole file. Send a file with \`curl -T file.csv …\` (it sends Content-Length); from a pipe, save it to a file first or add \`-H "${SHA256_HEADER}: <sha256sum of the body>"\`.`,
    );
  }
  return out;
}

function incomplete(detail: string): AppError {
  return new AppError("UPLOAD_INCOMPLETE", `The body that arrived is not the declared one (${detail}): the sender stopped early or the length is wrong. Send the whole file again.`);
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

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

/**
 * Passes the upload through, writing every chunk to R2 (back-pressure
 * included) and to the digest on the way; more bytes than declared stop it.
 */
async function* tee(source: Bytes, writer: ObjectWriter, declared: Declared, digest: WritableStreamDefaultWriter<Uint8Array> | null): Bytes {
  const it = source[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await it.next();
    } catch (err) {
      throw incomplete(`the connection broke after ${writer.size} bytes: ${(err as Error).message}`);
    }
    if (next.done) return;
    const chunk = next.value;
    if (declared.length !== undefined && writer.size + chunk.byteLength > declared.length) {
      throw incomplete(`more than the ${declared.length} bytes of its Content-Length`);
    }
    await writer.write(chunk);
    await digest?.write(chunk);
    yield chunk;
  }
}

async function putTable(request: Request, env: Env, config: Config, key: string): Promise<Response> {
  if (!request.body) throw new AppError("FILE_EMPTY", "The upload has no body. Send the file, e.g. `curl -T sales.csv …`.");
  const expected = declaredBody(request);
  const entry = await entryFor(env, config, key);
  // The live object this upload replaces: a change after this point is a conflict.
  const startEtag = (await env.DATA.head(key))?.etag ?? null;
  const declared = await loadDeclared(env, entry);
  const before = await currentColumns(env, config, entry);
  const info = tableKeyInfo(key)!;
  const contentType = storedContentType(info);
  const writer = new ObjectWriter(env.DATA, key, { httpMetadata: { contentType } });
  const digest = expected.sha256 ? new crypto.DigestStream("SHA-256") : null;
  // An aborted digest rejects its promise: it is only awaited on success.
  digest?.digest.catch(() => {});
  const digestWriter = digest?.getWriter() ?? null;
  let inspection;
  let description;
  try {
    const raw = tee(readStream(request.body), writer, expected, digestWriter);
    const bytes = info.gzip ? gunzip(raw) : raw;
    const described = await describeStream(entry, bytes, declared.sidecar);
    description = described.description;
    inspection = await inspectRows(description, described.bytes);
    if (expected.length !== undefined && writer.size !== expected.length) {
      throw incomplete(`${writer.size} bytes arrived, its Content-Length says ${expected.length}`);
    }
    if (digest && digestWriter) {
      await digestWriter.close();
      const got = hex(await digest.digest);
      if (got !== expected.sha256) throw incomplete(`the SHA-256 of the ${writer.size} bytes that arrived is ${got}, its ${SHA256_HEADER} says ${expected.sha256}`);
    }
  } catch (err) {
    await writer.abort();
    await digestWriter?.abort().catch(() => {});
    if (err instanceof AppError && err.status === 422) {
      throw new AppError(err.code, `The upload to "${key}" was rejected and the live table is unchanged: ${err.message}`);
    }
    throw err;
  }
  let replaced;
  try {
    replaced = await replaceKeeping(env.DATA, key, startEtag, (onlyIf) => writer.finish(onlyIf));
  } catch (err) {
    await writer.abort();
    throw err;
  }
  const { object, previous } = replaced;
  await pruneVersions(env.DATA, key, config.keepVersions);
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
  const startEtag = (await env.DATA.head(key))?.etag ?? null;
  // JSON cannot be cut at a valid boundary, so no declared length is needed here.
  const text = await readBodyText(request);
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
  const { object, previous } = await replaceKeeping(env.DATA, key, startEtag, (onlyIf) =>
    env.DATA.put(key, text, { httpMetadata: { contentType: "application/json" }, onlyIf }),
  );
  await pruneVersions(env.DATA, key, config.keepVersions);
  return Response.json({ key, size: object.size, etag: object.etag, previousVersion: previous }, { status: previous ? 200 : 201 });
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
      if (!table && !sidecar && !tableKeyInfo(o.key)) continue; // an empty table file is listed, with table null
      files.push({ key: o.key, table: table?.code ?? null, kind: sidecar ? "schema" : "table", size: o.size, etag: o.etag, uploaded: o.uploaded.toISOString() });
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return Response.json(files);
}

/** The live object as stored (compressed files stay compressed), so an operator can get back what is served. */
async function getFile(env: Env, key: string): Promise<Response> {
  const obj = await env.DATA.get(key);
  if (!obj) throw new AppError("FILE_NOT_FOUND", `There is no file "${key}".`);
  const headers = new Headers({ etag: obj.httpEtag, "content-length": String(obj.size), "cache-control": "no-store" });
  const info = tableKeyInfo(key);
  const byExtension = info ? storedContentType(info) : "application/json";
  headers.set("content-type", obj.httpMetadata?.contentType ?? byExtension);
  return new Response(obj.body, { headers });
}

export const files = endpoint({ body: "none", auth: uploadBearer, schema: z.unknown(), handle: (_req, { request, env, config }) => filesRoute(request, env, config) });

async function filesRoute(request: Request, env: Env, config: Config): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname.replace(/^\/files\/?/, "");
  const method = request.method;
  if (path === "") {
    if (method === "GET") return listFiles(env, config);
    throw new AppError("METHOD_NOT_ALLOWED", `${method} /files is not allowed. ${FILES_ROUTE_HELP}`);
  }
  const versions = /^(.*)\/versions$/.exec(path);
  const restore = /^(.*)\/restore$/.exec(path);
  if (versions && method === "GET") {
    const { key } = checkKey(versions[1]);
    return Response.json(await listVersions(env.DATA, key));
  }
  if (restore && method === "POST") {
    const { key, kind } = checkKey(restore[1]);
    const body = (await readBodyText(request)).trim();
    let version = url.searchParams.get("version") ?? undefined;
    if (!version && body) {
      try {
        version = (JSON.parse(body) as { version?: string }).version;
      } catch {
        version = new URLSearchParams(body).get("version") ?? undefined;
      }
    }
    // Restoring a deleted file must not take the code another file has since.
    if (kind === "table") await entryFor(env, config, key, "Restoring");
    const r = await restoreVersion(env.DATA, key, version);
    await pruneVersions(env.DATA, key, config.keepVersions);
    return Response.json({ key, restored: r.restored, previousVersion: r.kept, size: r.object.size, etag: r.object.etag });
  }
  const { key, kind } = checkKey(path);
  if (method === "GET") return getFile(env, key);
  if (method === "PUT") return kind === "sidecar" ? putSidecar(request, env, config, key) : putTable(request, env, config, key);
  if (method === "DELETE") {
    if (!(await env.DATA.head(key))) throw new AppError("FILE_NOT_FOUND", `There is no file "${key}".`);
    const kept = await deleteKeeping(env.DATA, key);
    await pruneVersions(env.DATA, key, Math.max(1, config.keepVersions));
    return Response.json({ key, deleted: true, previousVersion: kept });
  }
  throw new AppError("METHOD_NOT_ALLOWED", `${method} is not allowed on /files/${path}. ${FILES_ROUTE_HELP}`);
}
