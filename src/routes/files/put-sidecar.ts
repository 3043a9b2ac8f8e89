/** PUT /files/<key>.schema.json: a sidecar upload (uploads/upload-sidecar.ts). */
import type { Config, Env } from "../../config/config";
import type { TableLease } from "../../uploads/lock";
import { uploadSidecar } from "../../uploads/upload-sidecar";

export async function putSidecar(request: Request, env: Env, config: Config, key: string, lease: TableLease): Promise<Response> {
  const { report, created } = await uploadSidecar(request, env, config, key, lease);
  return Response.json(report, { status: created ? 201 : 200 });
}
