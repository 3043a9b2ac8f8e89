/** DELETE /files/<key>: the file is kept as a version first, so it can be restored. */

import { deleteCompiled } from "../../compiled/compile";
import type { Config, Env } from "../../config/config";
import { AppError } from "../../errors";
import type { TableLease } from "../../uploads/lock";
import { deleteKeeping } from "../../uploads/versions";

export async function deleteFile(env: Env, config: Config, key: string, lease: TableLease): Promise<Response> {
  if (!(await env.DATA.head(key))) throw new AppError("FILE_NOT_FOUND", `There is no file "${key}".`);
  const kept = await deleteKeeping(env.DATA, key, config.keepVersions, lease.confirm);
  // Its compiled forms are 2.6x the file: not kept for a restore that may never come (the cron compiles one).
  await deleteCompiled(env.DATA, key);
  return Response.json({ key, deleted: true, previousVersion: kept });
}
