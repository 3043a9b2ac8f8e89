/** POST /check, /table_list, /table_description, and GET / (status). */
import { findTable, listTables, searchTables } from "../catalog/catalog";
import { describe, describedColumns } from "../catalog/describe";
import type { Config, Env } from "../config";
import { portalDateFormat, tableParam } from "../validate/requests";

export const NAME = "bitrix24-bi-files-connector";
export const VERSION = "0.1.0";

/** /check refuses exactly the settings /data would refuse (see portalDateFormat). */
export function checkResponse(connection: Record<string, string> | undefined, config: Config): Response {
  portalDateFormat(connection, config.defaultDateFormat);
  return Response.json({ ok: true, connector: NAME, version: VERSION });
}

export async function tableListResponse(search: string | undefined, env: Env, config: Config): Promise<Response> {
  const tables = searchTables(await listTables(env, config), search);
  return Response.json(tables.map((t) => ({ code: t.code, title: t.title })));
}

export async function tableDescriptionResponse(req: { table?: string; name?: string }, env: Env, config: Config): Promise<Response> {
  const entry = await findTable(env, config, tableParam(req));
  const { description, bytes } = await describe(env, config, entry, { prefixOnly: true });
  await bytes.return(undefined);
  return Response.json(describedColumns(description).map((c) => ({ code: c.code, name: c.name, type: c.type })));
}

/**
 * GET / is unauthenticated: it says what is running and whether it is set up,
 * never which tables exist or how many (that needs the token: /table_list),
 * and it costs no bucket listing, however often a monitor calls it.
 */
export function statusResponse(config: Config): Response {
  return Response.json({
    name: NAME,
    version: VERSION,
    tokenConfigured: config.tokens.length > 0,
    endpoints: ["POST /check", "POST /table_list", "POST /table_description", "POST /data"],
  });
}
