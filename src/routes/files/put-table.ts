/** PUT /files/<key> of a table file: the upload (uploads/upload-table.ts), then its compiled form. */
import { compileAfterUpload } from "../../compiled/triggers";
import type { Config, Env } from "../../config/config";
import type { TableLease } from "../../uploads/lock";
import { uploadTable } from "../../uploads/upload-table";

export async function putTable(request: Request, env: Env, config: Config, key: string, lease: TableLease): Promise<Response> {
  const { report, created } = await uploadTable(request, env, config, key, lease, (entry, size) =>
    compileAfterUpload(env, config, entry, size),
  );
  return Response.json(report, { status: created ? 201 : 200 });
}
