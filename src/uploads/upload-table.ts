/**
 * Uploading a table file: checked while it streams in (every record parsed,
 * as /data would) and written to a multipart upload that only completes when
 * the check passed: a bad file is refused with 422 and the live table is never
 * touched. It must declare its size (Content-Length) or its SHA-256
 * (x-content-sha256), and is refused unless what arrived matches: a sender
 * that died between two records would otherwise leave a valid but partial
 * table. Then the manifest (what was understood) is kept, the caller's
 * follow-up runs (compiling: a later stage, so it is passed in), and the
 * report says what was understood and what changed. Runs under the table's
 * lock (uploads/lock.ts).
 */
import { describeStream, describeTable, loadSidecar, SAMPLE_BYTES } from "../catalog/describe";
import { MANIFEST_VERSION, type Manifest, plainDescription, writeManifest } from "../catalog/manifest";
import type { Config, Env } from "../config/config";
import { AppError } from "../errors";
import { FORMATS } from "../formats/registry";
import { logEvent } from "../log";
import type { Description, TableEntry } from "../model";
import { type Inspection, inspectUpload, schemaChange, understood, understoodNotes } from "../query/inspect";
import { storedContentType, tableKeyInfo } from "../rules/naming";
import { gunzip } from "../source/open";
import { type Bytes, readStream } from "../streams/bytes";
import { entryFor } from "./entry";
import type { TableLease } from "./lock";
import { type Staged, stage, stagingWriter, sweepStaging } from "./staged";
import { replaceKeeping } from "./versions";
import { ObjectWriter } from "./writer";

/** What an upload promised about its body: its length, its SHA-256, or both. */
interface ExpectedBody {
  length?: number;
  sha256?: string;
}

const SHA256_HEADER = "x-content-sha256";

function expectedBody(request: Request): ExpectedBody {
  const out: ExpectedBody = {};
  const length = request.headers.get("content-length");
  if (length !== null) {
    if (!/^\d{1,15}$/.test(length.trim())) throw new AppError("REQUEST_INVALID", `Content-Length "${length}" is not a byte count.`);
    out.length = Number(length.trim());
  }
  const sum = request.headers.get(SHA256_HEADER);
  if (sum !== null) {
    if (!/^[0-9a-f]{64}$/i.test(sum.trim()))
      throw new AppError(
        "REQUEST_INVALID",
        `${SHA256_HEADER} must be the body's SHA-256 as 64 hex digits (\`sha256sum file\`), not "${sum}".`,
      );
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
  return new AppError(
    "UPLOAD_INCOMPLETE",
    `The body that arrived is not the declared one (${detail}): the sender stopped early or the length is wrong. Send the whole file again.`,
  );
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** The current columns, for schema change detection (null when there is no readable live file). */
async function currentColumns(env: Env, config: Config, entry: TableEntry) {
  try {
    if (!(await env.DATA.head((entry.source as { key: string }).key))) return null;
    const { description, bytes } = await describeTable(env, config, entry, { prefixOnly: true });
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
async function* tee(
  source: Bytes,
  writer: ObjectWriter,
  expected: ExpectedBody,
  digest: WritableStreamDefaultWriter<Uint8Array> | null,
  lease: TableLease,
): Bytes {
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
    if (expected.length !== undefined && writer.size + chunk.byteLength > expected.length) {
      throw incomplete(`more than the ${expected.length} bytes of its Content-Length`);
    }
    await lease.renewIfDue();
    await writer.write(chunk);
    await digest?.write(chunk);
    yield chunk;
  }
}

/** What the upload understood of a report layout: where the header is, what was skipped above it and dropped below the data. */
function layoutReport(description: Description, inspection: Inspection) {
  const { layout } = description;
  if (!layout) return null;
  return {
    headerRow: layout.headerRow,
    skippedRows: layout.skippedRows,
    footerRows: inspection.footer?.rows ?? [],
    footerRowCount: inspection.footer?.count ?? 0,
    declared: layout.declared,
  };
}

/** The work after a table upload went live that belongs to a later stage (compiling it), given the table and the new object's size. */
export type AfterUpload = (entry: TableEntry, size: number) => Promise<void>;

/** What an upload reports: the answer's body, and whether the key was new (no live object was replaced). */
export interface UploadReport {
  report: Record<string, unknown>;
  created: boolean;
}

/** Uploads `request`'s body as the table file `key` and makes it live, under the table's lock (`lease`). */
export async function uploadTable(
  request: Request,
  env: Env,
  config: Config,
  key: string,
  lease: TableLease,
  afterUpload: AfterUpload,
): Promise<UploadReport> {
  if (!request.body) throw new AppError("FILE_EMPTY", "The upload has no body. Send the file, e.g. `curl -T sales.csv …`.");
  const expected = expectedBody(request);
  const entry = await entryFor(env, config, key);
  // The live object this upload replaces: a change after this point is a conflict.
  const startEtag = (await env.DATA.head(key))?.etag ?? null;
  const { sidecar, version: sidecarVersion } = await loadSidecar(env, entry);
  const before = await currentColumns(env, config, entry);
  const info = tableKeyInfo(key)!;
  const contentType = storedContentType(info);
  const options = { httpMetadata: { contentType } };
  // A format read with range reads (XLSX) is staged in the bucket and checked there (uploads/staged.ts).
  const randomAccess = !info.gzip && FORMATS.formatOf(sidecar?.format ?? info.extension)?.randomAccess === true;
  const staging = randomAccess ? stagingWriter(env.DATA, options) : null;
  // Each staged upload sweeps what an earlier one left when its isolate died (never a live upload's: those are young).
  if (staging) await sweepStaging(env.DATA);
  const writer = staging?.writer ?? new ObjectWriter(env.DATA, key, options);
  let staged: Staged | null = null;
  const digest = expected.sha256 ? new crypto.DigestStream("SHA-256") : null;
  // An aborted digest rejects its promise: it is only awaited on success.
  digest?.digest.catch(() => {});
  const digestWriter = digest?.getWriter() ?? null;
  const checkArrived = async () => {
    if (expected.length !== undefined && writer.size !== expected.length) {
      throw incomplete(`${writer.size} bytes arrived, its Content-Length says ${expected.length}`);
    }
    if (digest && digestWriter) {
      await digestWriter.close();
      const got = hex(await digest.digest);
      if (got !== expected.sha256)
        throw incomplete(`the SHA-256 of the ${writer.size} bytes that arrived is ${got}, its ${SHA256_HEADER} says ${expected.sha256}`);
    }
  };
  let inspection: Inspection;
  let description: Description;
  try {
    const raw = tee(readStream(request.body), writer, expected, digestWriter, lease);
    if (staging) {
      for await (const _ of raw); // every byte into the staging object first
      await checkArrived();
      staged = await stage(env.DATA, writer, staging.stagingKey, options);
      const described = await describeStream(entry, staged.access.stream(0, Math.min(staged.access.size, SAMPLE_BYTES)), sidecar, {
        ...staged.access,
      });
      // Types from every value (declared ones kept): what the manifest keeps and the answer shows.
      ({ description, inspection } = await inspectUpload(described.description, described.bytes, sidecar, described.access));
    } else {
      const bytes = info.gzip ? gunzip(raw) : raw;
      const described = await describeStream(entry, bytes, sidecar);
      ({ description, inspection } = await inspectUpload(described.description, described.bytes, sidecar));
      await checkArrived();
    }
  } catch (err) {
    await writer.abort();
    if (staging) await env.DATA.delete(staging.stagingKey).catch(() => {});
    await digestWriter?.abort().catch(() => {});
    if (err instanceof AppError && err.status === 422) {
      throw new AppError(err.code, `The upload to "${key}" was rejected and the live table is unchanged: ${err.message}`);
    }
    throw err;
  }
  let replaced;
  try {
    await lease.confirm();
    // A staged upload (random-access formats) is copied live; any other completes in place, the lease confirmed last.
    // Keeping the live object (a copy) can outlast the lease: a staged upload confirms it again before it is copied live.
    replaced = await replaceKeeping(env.DATA, key, { expectedEtag: startEtag, keep: config.keepVersions }, async (onlyIf) =>
      staged ? (await lease.confirm(), staged.promote(key, onlyIf)) : writer.finish(onlyIf, lease.confirm),
    );
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    await staged?.discard();
  }
  const { object, previous } = replaced;
  const what = understood(description, inspection);
  // After the conditional write succeeded, keyed by the new etag: a manifest never describes another version.
  const manifest: Manifest = {
    v: MANIFEST_VERSION,
    key,
    etag: object.etag,
    sidecar: sidecarVersion,
    format: sidecar?.format ?? entry.source.extension,
    reader: description.reader.decisions?.() ?? {},
    description: plainDescription(description),
    rows: inspection.rows,
    columns: what.columns.map(({ code, type, example, misfits }) => ({ code, type, example, misfits })),
  };
  let kept = true;
  try {
    await writeManifest(env.DATA, manifest);
  } catch (err) {
    // The table is live and correct; without its manifest it is described from its first rows.
    kept = false;
    logEvent("manifest_failed", { table: entry.code, error: (err as Error).name }, "error");
  }
  // Compiled after the manifest: the compiled form is made from the description serving uses (catalog/describe.ts).
  await afterUpload(entry, object.size);
  const change = schemaChange(before, description.columns);
  const notes: string[] = [];
  if (change?.added.length)
    notes.push(
      `New columns ${change.added.join(", ")}: the app page's table offers "Add fields" for the portal's dataset (from a terminal: \`npm run setup\`).`,
    );
  if (change && (change.removed.length || change.retyped.length))
    notes.push(
      'Removed or retyped columns change the dataset: the app page\'s table offers "Remove fields" (from a terminal: `npm run setup -- --prune`).',
    );
  logEvent("upload", {
    table: entry.code,
    bytes: object.size,
    rows: inspection.rows,
    columns: description.columns.length,
    replaced: previous !== undefined && previous !== null,
    added: change?.added.length ?? 0,
    removed: change?.removed.length ?? 0,
    retyped: change?.retyped.length ?? 0,
  });
  const layout = description.layout;
  if (layout && layout.headerRow > 1)
    notes.push(
      `The header is row ${layout.headerRow}; the ${layout.headerRow - 1} row(s) above it (title lines, blank lines) are skipped.`,
    );
  if (inspection.footer && inspection.footer.count > 0) {
    const how = layout?.footer.kind === "count" ? "the sidecar's footerRows" : "totals and empty rows at the end";
    notes.push(
      `${inspection.footer.count} row(s) at the end are dropped (${how}; first: row ${inspection.footer.rows[0].row}). Set footerRows in the sidecar to change that.`,
    );
  }
  notes.push(...understoodNotes(what, key));
  // The header row and skipped rows are in `layout` (with the footer), once.
  const { misfits: _m, headerRow: _h, skippedRows: _s, ...shown } = what;
  return {
    report: {
      key,
      table: entry.code,
      size: object.size,
      etag: object.etag,
      rows: inspection.rows,
      // What was understood (also kept in the file's manifest): columns with an example and misfits, encoding, dialect, header.
      ...shown,
      layout: layoutReport(description, inspection),
      manifest: kept,
      schemaChange: change,
      previousVersion: previous,
      notes,
    },
    created: !previous,
  };
}
