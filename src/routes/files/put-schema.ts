/** PUT /files/<key>.schema.json: a declared schema, validated (also against the file it describes) before it is stored. */
import { describeStream } from "../../catalog/describe";
import type { Config, Env } from "../../config/config";
import { readBodyText } from "../../request/body";
import { SIDECAR_SUFFIX, tableKeyInfo } from "../../rules/naming";
import { parseSidecar } from "../../rules/sidecar";
import { gunzip } from "../../source/open";
import { readStream } from "../../streams/bytes";
import type { TableLease } from "../../uploads/lock";
import { replaceKeeping } from "../../uploads/versions";
import { entryFor } from "./entry";

export async function putSidecar(request: Request, env: Env, config: Config, key: string, lease: TableLease): Promise<Response> {
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
  // The body and the check can outlast the table lock's lease (a slow client): it must still be ours when the schema is made live.
  const { object, previous } = await replaceKeeping(env.DATA, key, { expectedEtag: startEtag, keep: config.keepVersions }, async (onlyIf) => {
    await lease.confirm();
    return env.DATA.put(key, text, { httpMetadata: { contentType: "application/json" }, onlyIf });
  });
  return Response.json({ key, size: object.size, etag: object.etag, previousVersion: previous }, { status: previous ? 200 : 201 });
}
