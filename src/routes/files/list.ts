/** GET /files: table files and sidecars (not kept versions or manifests), with their table codes. */
import { listTables } from "../../catalog/catalog";
import { MANIFEST_PREFIX } from "../../catalog/manifest";
import type { Config, Env } from "../../config/config";
import { sidecarTable, tableKeyInfo } from "../../rules/naming";
import { listObjects } from "../../streams/r2-list";
import { VERSIONS_PREFIX } from "../../uploads/versions";

export async function listFiles(env: Env, config: Config): Promise<Response> {
  const tables = await listTables(env, config);
  const files: unknown[] = [];
  for await (const o of listObjects(env.DATA)) {
    if (o.key.startsWith(VERSIONS_PREFIX) || o.key.startsWith(MANIFEST_PREFIX)) continue;
    const table = tables.find((t) => t.source.kind === "r2" && t.source.key === o.key);
    const sidecar = sidecarTable(o.key) !== null;
    if (!table && !sidecar && !tableKeyInfo(o.key)) continue; // an empty table file is listed, with table null
    files.push({
      key: o.key,
      table: table?.code ?? null,
      kind: sidecar ? "schema" : "table",
      size: o.size,
      etag: o.etag,
      uploaded: o.uploaded.toISOString(),
    });
  }
  return Response.json(files);
}
