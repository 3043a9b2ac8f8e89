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
 * token or the page's session) and routes to the operation (routes/router.ts). Every write (PUT, DELETE, restore) runs
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
import { paramsOf, type Route, router } from "../router";
import { deleteFile } from "./delete";
import { getFile } from "./get";
import { listFiles } from "./list";
import { putSidecar } from "./put-sidecar";
import { putTable } from "./put-table";
import { restoreFile } from "./restore";

const FILES_ROUTE_HELP = "Use GET /files, GET|PUT|DELETE /files/<key>, GET /files/<key>/versions or POST /files/<key>/restore.";

type Args = [Env, Config];

/** The key as it is in the path (percent-encoded: checkKey decodes it once). */
const keyOf = (request: Request) => checkKey(paramsOf(request).key);

/**
 * Matched exactly, in this order: a key may itself end in /versions or
 * /restore only as a file name, which checkKey then refuses for its extension.
 */
const ROUTES: readonly Route<Args>[] = [
  { path: /^\/files\/?$/, handle: { GET: (_request, env, config) => listFiles(env, config) } },
  {
    path: /^\/files\/(?<key>.*)\/versions$/,
    handle: {
      GET: async (request, env) => Response.json(await listVersions(env.DATA, keyOf(request).key)),
    },
  },
  {
    path: /^\/files\/(?<key>.*)\/restore$/,
    handle: {
      POST: async (request, env, config) => {
        const { key, kind } = keyOf(request);
        return withTableLock(env, key, (lease) => restoreFile(request, env, config, new URL(request.url), key, kind, lease));
      },
    },
  },
  {
    path: /^\/files\/(?<key>.+)$/,
    handle: {
      GET: async (request, env) => getFile(env, keyOf(request).key),
      PUT: async (request, env, config) => {
        const { key, kind } = keyOf(request);
        return withTableLock(env, key, (lease) =>
          kind === "sidecar" ? putSidecar(request, env, config, key, lease) : putTable(request, env, config, key, lease),
        );
      },
      DELETE: async (request, env, config) => {
        const { key } = keyOf(request);
        return withTableLock(env, key, (lease) => deleteFile(env, config, key, lease));
      },
    },
  },
];

/** Any other method: refused after the key is checked (a bad key is named first). */
const filesRoutes = router<Args>(ROUTES, (request) => {
  const path = new URL(request.url).pathname.replace(/^\/files\/?/, "");
  if (path === "") throw new AppError("METHOD_NOT_ALLOWED", `${request.method} /files is not allowed. ${FILES_ROUTE_HELP}`);
  checkKey(path);
  throw new AppError("METHOD_NOT_ALLOWED", `${request.method} is not allowed on /files/${path}. ${FILES_ROUTE_HELP}`);
});

export const files = endpoint({
  body: "none",
  auth: sessionOr(uploadBearer),
  schema: z.unknown(),
  handle: (_req, { request, env, config }) => filesRoutes(request, env, config),
});
