/** POST /check, /table_list, /table_description, and GET / (status). */
import * as z from "zod";
import pkg from "../../package.json";
import { connectorToken } from "../auth/connector";
import { anyone } from "../auth/strategy";
import { findTable, listTables, searchTables } from "../catalog/catalog";
import { describedColumns, describeTable } from "../catalog/describe";
import { PORTAL_ENDPOINTS } from "../model";
import { CheckRequest, portalDateFormat, TableDescriptionRequest, TableListRequest, tableParam } from "../request/schemas";
import { endpoint } from "./endpoint";

export const NAME = pkg.name;
export const VERSION = pkg.version;

/** /check refuses exactly the settings /data would refuse (see portalDateFormat). */
export const check = endpoint({
  body: "form-or-json",
  auth: connectorToken,
  schema: CheckRequest,
  handle: (req, { config }) => {
    portalDateFormat(req.connection, config.defaultDateFormat);
    return Response.json({ ok: true, connector: NAME, version: VERSION });
  },
});

export const tableList = endpoint({
  body: "form-or-json",
  auth: connectorToken,
  schema: TableListRequest,
  handle: async (req, { env, config }) => {
    const tables = searchTables(await listTables(env, config), req.searchString);
    return Response.json(tables.map((t) => ({ code: t.code, title: t.title })));
  },
});

export const tableDescription = endpoint({
  body: "form-or-json",
  auth: connectorToken,
  schema: TableDescriptionRequest,
  handle: async (req, { env, config }) => {
    const entry = await findTable(env, config, tableParam(req));
    const { description, bytes } = await describeTable(env, config, entry, { prefixOnly: true });
    await bytes.return(undefined);
    return Response.json(describedColumns(description).map((c) => ({ code: c.code, name: c.name, type: c.type })));
  },
});

/**
 * GET / is unauthenticated: it says what is running and whether it is set up,
 * never which tables exist or how many (that needs the token: /table_list),
 * and it costs no bucket listing, however often a monitor calls it.
 */
export const status = endpoint({
  body: "none",
  auth: anyone,
  schema: z.unknown(),
  handle: (_req, { config }) =>
    Response.json({
      name: NAME,
      version: VERSION,
      tokenConfigured: config.tokens.length > 0,
      endpoints: Object.values(PORTAL_ENDPOINTS).map((path) => `POST ${path}`),
    }),
});
