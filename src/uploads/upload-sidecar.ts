/** Uploading a sidecar (`<file>.schema.json`): validated, also against the table file it describes, before it is made live. */
import { describeStream, SAMPLE_BYTES } from "../catalog/describe";
import type { Config, Env } from "../config/config";
import { readBodyText } from "../request/body";
import { sidecarTable } from "../rules/naming";
import { parseSidecar } from "../rules/sidecar";
import { openTable } from "../source/open";
import { entryFor } from "./entry";
import type { TableLease } from "./lock";
import type { UploadReport } from "./upload-table";
import { replaceKeeping } from "./versions";

/** Uploads `request`'s body as the sidecar `key` and makes it live, under its table's lock (`lease`). */
export async function uploadSidecar(request: Request, env: Env, config: Config, key: string, lease: TableLease): Promise<UploadReport> {
  const startEtag = (await env.DATA.head(key))?.etag ?? null;
  // JSON cannot be cut at a valid boundary, so no declared length is needed here.
  const text = await readBodyText(request);
  const sidecar = parseSidecar(text, `uploaded as "${key}"`);
  // Check it against the table file it describes, when that exists: read as /data reads it (a workbook with range reads).
  const tableKey = sidecarTable(key)!;
  if (await env.DATA.head(tableKey)) {
    const entry = await entryFor(env, config, tableKey);
    const opened = await openTable(env, config, entry, { sampleBytes: SAMPLE_BYTES });
    const { bytes } = await describeStream(entry, opened.bytes, sidecar, { size: opened.size, read: opened.read, stream: opened.stream });
    await bytes.return(undefined);
  }
  // The body and the check can outlast the table lock's lease (a slow client): it must still be ours when the sidecar is made live.
  const { object, previous } = await replaceKeeping(
    env.DATA,
    key,
    { expectedEtag: startEtag, keep: config.keepVersions },
    async (onlyIf) => {
      await lease.confirm();
      return env.DATA.put(key, text, { httpMetadata: { contentType: "application/json" }, onlyIf });
    },
  );
  return { report: { key, size: object.size, etag: object.etag, previousVersion: previous }, created: !previous };
}
