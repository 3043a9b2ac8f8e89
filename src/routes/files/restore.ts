/** POST /files/<key>/restore: a kept version (the latest, or ?version= / a body's `version`) made live again. */
import type { Config, Env } from "../../config/config";
import { readBodyText } from "../../request/body";
import { entryFor } from "../../uploads/entry";
import type { KeyKind } from "../../uploads/key";
import type { TableLease } from "../../uploads/lock";
import { restoreVersion } from "../../uploads/versions";
import { jsonObject, parseJson } from "../../values/json";

/** The version asked for: `?version=`, or a JSON or form body's `version`. */
async function versionAsked(request: Request, url: URL): Promise<string | undefined> {
  const body = (await readBodyText(request)).trim();
  const version = url.searchParams.get("version") ?? undefined;
  if (version || !body) return version;
  const parsed = parseJson(body);
  if (!parsed.ok) return new URLSearchParams(body).get("version") ?? undefined;
  const v = jsonObject(parsed.value)?.version;
  return typeof v === "string" ? v : undefined;
}

export async function restoreFile(
  request: Request,
  env: Env,
  config: Config,
  url: URL,
  key: string,
  kind: KeyKind,
  lease: TableLease,
): Promise<Response> {
  const version = await versionAsked(request, url);
  // Restoring a deleted file must not take the code another file has since.
  if (kind === "table") await entryFor(env, config, key, "Restoring");
  const r = await restoreVersion(env.DATA, key, version, config.keepVersions, lease.confirm);
  return Response.json({ key, restored: r.restored, previousVersion: r.kept, size: r.object.size, etag: r.object.etag });
}
