/**
 * /files: updating data by uploading (Bearer UPLOAD_TOKEN, or the app page's session).
 *
 *   GET    /files                       list table files and sidecars
 *   GET    /files/<key>                 the live file as stored (streamed)
 *   GET    /files/<key>/versions        kept versions of one file
 *   PUT    /files/<key>                 upload: streamed, validated, then made live
 *   DELETE /files/<key>                 delete (the file is kept as a version)
 *   POST   /files/<key>/restore         make a kept version live again
 *
 * One file per operation in this folder; this one authenticates (the upload
 * token) and picks the operation. Every write (PUT, DELETE, restore) runs
 * under its table code's lock (uploads/lock.ts), so two writes of one table
 * never interleave. Replacing keeps the old object as a version with a
 * conditional write (uploads/versions.ts), and an upload never changes
 * another table's code (uploads/entry.ts).
 */
import * as z from "zod";
import { sessionOr } from "../../auth/session";
import { uploadBearer } from "../../auth/upload";
import type { Config, Env } from "../../config/config";
import { AppError } from "../../errors";
import { checkKey } from "../../uploads/key";
import { withTableLock } from "../../uploads/lock";
import { listVersions } from "../../uploads/versions";
import { endpoint } from "../endpoint";
import { deleteFile } from "./delete";
import { getFile } from "./get";
import { listFiles } from "./list";
import { putSidecar } from "./put-sidecar";
import { putTable } from "./put-table";
import { restoreFile } from "./restore";

const FILES_ROUTE_HELP = "Use GET /files, GET|PUT|DELETE /files/<key>, GET /files/<key>/versions or POST /files/<key>/restore.";

export const files = endpoint({ body: "none", auth: sessionOr(uploadBearer), schema: z.unknown(), handle: (_req, { request, env, config }) => filesRoute(request, env, config) });

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
    return withTableLock(env, key, (lease) => restoreFile(request, env, config, url, key, kind, lease));
  }
  const { key, kind } = checkKey(path);
  if (method === "GET") return getFile(env, key);
  if (method === "PUT") return withTableLock(env, key, (lease) => (kind === "sidecar" ? putSidecar(request, env, config, key, lease) : putTable(request, env, config, key, lease)));
  if (method === "DELETE") return withTableLock(env, key, (lease) => deleteFile(env, config, key, lease));
  throw new AppError("METHOD_NOT_ALLOWED", `${method} is not allowed on /files/${path}. ${FILES_ROUTE_HELP}`);
}
