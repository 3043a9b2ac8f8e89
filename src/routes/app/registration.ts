/**
 * The registration `npm run setup` runs (register/register.ts), run by the
 * Worker itself with a verified administrator's token: the first install,
 * and the app page's sync and dataset state (a dry run). The Worker answers
 * the registration's questions in-process, with the same code as
 * /table_list and /table_description.
 */
import { portalClient } from "../../auth/portal-token";
import { findTable, listTables } from "../../catalog/catalog";
import { describedColumns, describeTable } from "../../catalog/describe";
import type { Config, Env, PortalConfig } from "../../config/config";
import { AppError } from "../../errors";
import { DEFAULT_LOGO, register, type Summary, type WorkerApi } from "../../register/register";

export const CONNECTOR_TITLE = "Files (R2 + URLs)";

export function inProcessWorker(env: Env, config: Config): WorkerApi {
  return {
    tables: async () => (await listTables(env, config)).map((t) => ({ code: t.code, title: t.title })),
    describe: async (code) => {
      const { description, bytes } = await describeTable(env, config, await findTable(env, config, code), { prefixOnly: true });
      await bytes.return(undefined);
      return describedColumns(description).map((c) => ({ code: c.code, name: c.name, type: c.type }));
    },
  };
}

/** What registering needs besides the portal settings: the token the source gets, and the connector URLs' base. */
export function installSettings(config: Config): { token: string; workerUrl: string } {
  if (config.tokens.length === 0) {
    throw new AppError(
      "TOKEN_NOT_CONFIGURED",
      "Set CONNECTOR_TOKEN (`wrangler secret put CONNECTOR_TOKEN`) before installing: the portal's source needs it.",
    );
  }
  if (!config.workerUrl) {
    throw new AppError(
      "CONFIG_INVALID",
      "Installing needs WORKER_URL, the Worker's public address (e.g. https://bitrix24-bi-files-connector.<you>.workers.dev), set with `npm run deploy` (or `wrangler secret put WORKER_URL`): the connector's URLs are registered with it.",
    );
  }
  return { token: config.tokens[0], workerUrl: config.workerUrl };
}

export interface RegistrationRun {
  /** Only these table codes (default: all). */
  tables?: string[];
  /** Also remove dataset fields whose columns are gone (the page asks for confirmation first). */
  prune?: boolean;
  dryRun?: boolean;
  /** Go on with the tables that can be described (register.ts skipInvalid). */
  skipInvalid?: boolean;
}

/** Runs the registration on PORTAL_URL with `accessToken`, registering WORKER_URL's addresses. */
export function runRegistration(
  env: Env,
  config: Config,
  portal: PortalConfig,
  accessToken: string,
  run: RegistrationRun = {},
): Promise<Summary> {
  const { token, workerUrl } = installSettings(config);
  return register(portalClient(portal, accessToken), inProcessWorker(env, config), {
    workerUrl,
    token,
    title: CONNECTOR_TITLE,
    logo: DEFAULT_LOGO,
    dateFormat: config.defaultDateFormat,
    ...(run.tables ? { tables: run.tables } : {}),
    prune: run.prune ?? false,
    dryRun: run.dryRun ?? false,
    skipInvalid: run.skipInvalid ?? false,
  });
}
