/**
 * Registration with the portal: the connector, one source, one table
 * (dataset) per file. Idempotent: a second run with nothing new changes
 * nothing. Shared by `npm run setup` (Node) and the Worker's /install route.
 */

import { COLUMN_TYPES, PORTAL_ENDPOINTS } from "../model";
import { FIELD_CODE_RE, TABLE_CODE_MAX, TABLE_CODE_RE } from "../rules/naming";
import { datasetFields, fieldNames, flagOf, idOf, itemOf, requiredFieldNames, sameValue, settingValues, sourceOf } from "./answers";
import { type Portal, PortalError } from "./rest-client";

/** What the Worker tells about its tables (over HTTP for the CLI, in-process for /install). */
export interface WorkerApi {
  tables(): Promise<{ code: string; title: string }[]>;
  describe(code: string): Promise<{ code: string; name: string; type: string }[]>;
}

export interface RegisterOptions {
  workerUrl: string;
  token: string;
  title: string;
  logo: string;
  description?: string;
  dateFormat: string;
  /** Only these table codes (default: every table the Worker lists). */
  tables?: string[];
  /** Prefix for dataset names, to avoid collisions with other datasets on the portal. */
  prefix?: string;
  dryRun?: boolean;
  prune?: boolean;
  /**
   * Go on with the tables that could be described when others could not
   * (their lines say why). Off by default: a run stops before any portal call
   * until every table is fine. The app page's state check (a dry run) sets it,
   * so one broken file does not hide the state of all the others.
   */
  skipInvalid?: boolean;
}

export type Outcome = "created" | "updated" | "unchanged" | "deleted" | "failed" | "would create" | "would update" | "would delete";

export interface SummaryLine {
  object: string;
  outcome: Outcome;
  detail?: string;
  /** A table's line: its code, and how the portal's dataset differs from the file (field names), for the app page. */
  table?: string;
  changes?: { added: string[]; removed: string[]; retyped: string[] };
}

export interface Summary {
  lines: SummaryLine[];
  failed: boolean;
}

type Item = Record<string, unknown>;

/** The date_format setting as the portal's source form shows it: the accepted values, since people type it. */
export const DATE_FORMAT_SETTING_NAME = "Date format: DD.MM.YYYY (ДД.ММ.ГГГГ), MM/DD/YYYY, DD/MM/YYYY or YYYY-MM-DD";

export const DEFAULT_LOGO =
  "data:image/svg+xml;base64," +
  btoa(
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#2fc6f6"/><path d="M18 14h20l10 10v26H18z" fill="#fff"/><path d="M38 14v10h10" fill="#bdeefc"/><path d="M23 44V36h4v8zm7 0V30h4v14zm7 0V33h4v11z" fill="#2fc6f6"/></svg>',
  );

/** A message a person can act on, for the errors the portal is known to return. */
export function explain(err: unknown): string {
  if (!(err instanceof PortalError)) return (err as Error).message;
  switch (err.code) {
    case "SOURCE_CREATE_CONNECTION_ERROR":
    case "SOURCE_UPDATE_CONNECTION_ERROR":
      return `the Worker rejected the token: the portal called /check and did not get 200 (${err.description || "no details"}). Check --token against the Worker's CONNECTOR_TOKEN and that --worker-url is reachable from the portal.`;
    case "ACCESS_DENIED":
    case "insufficient_scope":
      return `access denied for ${err.method}: biconnector.* needs a local application's OAuth token with scope "biconnector" (an incoming webhook works only on-premise with the special option).`;
    case "DATASET_ALREADY_EXIST":
    case "NAME_EXISTS":
      return `a dataset with this name already exists on the portal and was not created by this application; choose another name with --prefix.`;
    case "expired_token":
    case "EXPIRED_TOKEN":
      return "the access token has expired; pass --refresh-token, --client-id and --client-secret so it can be refreshed, or get a new one.";
    default:
      return err.message;
  }
}

/** Local validation with the Worker's own naming rules, before any call. */
export function validateTable(name: string, fields: { name: string; externalCode: string; type: string }[]): string | null {
  if (!TABLE_CODE_RE.test(name) || name.length > TABLE_CODE_MAX)
    return `dataset name "${name}" must match ^[a-z][a-z0-9_]*$ and be at most ${TABLE_CODE_MAX} characters`;
  const names = new Set<string>();
  for (const f of fields) {
    if (!FIELD_CODE_RE.test(f.name)) return `field name "${f.name}" must match ^[A-Z][A-Z0-9_]*$ and be at most 32 characters`;
    if (names.has(f.name)) return `field name "${f.name}" appears twice`;
    if (!(COLUMN_TYPES as readonly string[]).includes(f.type)) return `field "${f.name}" has the unknown type "${f.type}"`;
    names.add(f.name);
  }
  return null;
}

function differs(current: Item, desired: Item): string[] {
  return Object.keys(desired).filter((k) => !sameValue(current[k], desired[k]));
}

/** What the connector must have whatever `connector.fields` says: without these the portal cannot call it. */
const CONNECTOR_REQUIRED = ["title", "logo", "urlCheck", "urlTableList", "urlTableDescription", "urlData", "settings"];

interface PlannedTable {
  code: string;
  title: string;
  name: string;
  fields: { name: string; externalCode: string; type: string }[];
}

/** One registration run: the portal, the options, and the summary lines it writes. */
interface Run {
  portal: Portal;
  opts: RegisterOptions;
  dry: boolean;
  /** The Worker's address without a trailing slash. */
  base: string;
  note(object: string, outcome: Outcome, detail?: string, extra?: Pick<SummaryLine, "table" | "changes">): void;
}

/** Phase 0: everything the Worker serves, described and validated locally before any portal call. */
async function planTables(worker: WorkerApi, opts: RegisterOptions, note: Run["note"]): Promise<PlannedTable[]> {
  const prefix = opts.prefix ?? "";
  const wanted = await worker.tables();
  const selected = opts.tables?.length ? wanted.filter((t) => opts.tables!.includes(t.code)) : wanted;
  const planned: PlannedTable[] = [];
  for (const missing of opts.tables?.filter((c) => !wanted.some((t) => t.code === c)) ?? []) {
    note(`table ${missing}`, "failed", "the Worker has no such table (see its /table_list)");
  }
  for (const t of selected) {
    const name = `${prefix}${t.code}`;
    try {
      const fields = (await worker.describe(t.code)).map((c) => ({ name: c.code, externalCode: c.code, type: c.type }));
      const invalid = validateTable(name, fields);
      if (invalid) note(`table ${name}`, "failed", invalid, { table: t.code });
      else planned.push({ code: t.code, title: t.title, name, fields });
    } catch (err) {
      note(`table ${name}`, "failed", explain(err), { table: t.code });
    }
  }
  return planned;
}

/**
 * connector.add/update, sending the optional keys connector.fields does not
 * list (supportMapping, sourceCode: the add page of current portals takes
 * them, no revision of connector.fields names them) once more without them
 * when this portal refuses unknown keys. Required keys are always sent.
 */
async function sendConnector(
  portal: Portal,
  method: string,
  params: Item,
  fields: Item,
  listed: Set<string> | null,
  required: Set<string>,
): Promise<{ result: unknown; sent: string[] }> {
  try {
    return { result: await portal.call(method, { ...params, fields }), sent: Object.keys(fields) };
  } catch (err) {
    const unlisted = listed ? Object.keys(fields).filter((k) => !listed.has(k) && !required.has(k)) : [];
    if (!(err instanceof PortalError) || err.code !== "VALIDATION_UNKNOWN_PARAMETERS" || unlisted.length === 0) throw err;
    const known = Object.fromEntries(Object.entries(fields).filter(([k]) => !unlisted.includes(k)));
    if (Object.keys(known).length === 0) return { result: true, sent: [] };
    return { result: await portal.call(method, { ...params, fields: known }), sent: Object.keys(known) };
  }
}

/** Phase 1: the connector. */
async function registerConnector({ portal, opts, dry, base, note }: Run): Promise<{ connectorId: number; existed: boolean }> {
  const fieldsResult = await portal.call("biconnector.connector.fields");
  const listed = fieldNames(fieldsResult);
  const required = new Set([...CONNECTOR_REQUIRED, ...requiredFieldNames(fieldsResult)]);
  const desired: Item = {
    title: opts.title,
    logo: opts.logo,
    description: opts.description ?? "CSV and JSON files from Cloudflare R2 and public URLs",
    sort: 100,
    ...Object.fromEntries(Object.entries(PORTAL_ENDPOINTS).map(([k, path]) => [k, `${base}${path}`])),
    settings: [
      { code: "token", name: "Token (the Worker's CONNECTOR_TOKEN)", type: "STRING" },
      { code: "date_format", name: DATE_FORMAT_SETTING_NAME, type: "STRING" },
    ],
    supportMapping: true,
    sourceCode: "files_connector",
  };

  const connectors = await portal.list("biconnector.connector.list");
  const existing = connectors.find((c) => c.urlCheck === desired.urlCheck) ?? connectors.find((c) => c.title === opts.title);
  let connectorId: number;
  if (!existing) {
    connectorId = dry ? 0 : idOf((await sendConnector(portal, "biconnector.connector.add", {}, desired, listed, required)).result);
    note("connector", dry ? "would create" : "created", `${opts.title} → ${base}`);
  } else {
    connectorId = idOf(existing);
    // A key the list does not show (the logo, a field of a newer portal) is not taken for a change.
    const changed = differs(existing, desired).filter((k) => existing[k] !== undefined);
    // What this portal refuses to take (an optional key it does not know) is no change to report on every run.
    const sent =
      changed.length === 0 || dry
        ? changed
        : (
            await sendConnector(
              portal,
              "biconnector.connector.update",
              { id: connectorId },
              Object.fromEntries(changed.map((k) => [k, desired[k]])),
              listed,
              required,
            )
          ).sent;
    if (sent.length > 0) note("connector", dry ? "would update" : "updated", sent.join(", "));
    else note("connector", "unchanged");
  }

  return { connectorId, existed: existing !== undefined };
}

/** The source this application made for the connector, with its settings (source.get when the list does not carry them). */
async function findSource(portal: Portal, connectorId: number, title: string): Promise<Item | undefined> {
  const sources = (await portal.list("biconnector.source.list", { filter: { connectorId } })).map(sourceOf);
  const mine = sources.filter((s) => s.connectorId === undefined || idOf(s.connectorId) === connectorId);
  const found = mine.find((s) => s.title === title) ?? mine[0];
  if (!found || settingValues(found.settings) !== null) return found;
  const detail = itemOf(await portal.call("biconnector.source.get", { id: idOf(found) }));
  return detail ? { ...found, ...sourceOf(detail) } : found;
}

/** Phase 2: the source; the portal calls /check synchronously on add and update. Null when it failed. */
async function registerSource(
  { portal, opts, dry, base, note }: Run,
  connectorId: number,
  connectorExisted: boolean,
): Promise<{ sourceId: number; existed: boolean } | null> {
  const settings = { token: opts.token, date_format: opts.dateFormat };
  let sourceId: number;
  let source: Item | undefined;
  try {
    source = dry && !connectorExisted ? undefined : await findSource(portal, connectorId, opts.title);
    if (!source) {
      sourceId = dry
        ? 0
        : idOf(
            await portal.call("biconnector.source.add", {
              fields: { title: opts.title, description: `Files served by ${base}`, active: true, connectorId, settings },
            }),
          );
      note("source", dry ? "would create" : "created", opts.title);
    } else {
      sourceId = idOf(source);
      const current = settingValues(source.settings) ?? {};
      const changed = Object.keys(settings).filter((k) => current[k] !== settings[k as keyof typeof settings]);
      // A source switched off in BI Builder stays off: that is the administrator's choice (and current portals do not take `active` over REST).
      const off = flagOf(source.active) === false ? "switched off in BI Builder: switch it on there to use its datasets" : undefined;
      if (changed.length > 0) {
        // `title` goes with every update: one revision of source.update refuses an update without it.
        if (!dry)
          await portal.call("biconnector.source.update", { id: sourceId, fields: { title: String(source.title ?? opts.title), settings } });
        note("source", dry ? "would update" : "updated", `settings: ${changed.join(", ")}${off ? `; ${off}` : ""}`);
      } else note("source", "unchanged", off);
    }
  } catch (err) {
    note("source", "failed", explain(err));
    return null;
  }

  return { sourceId, existed: source !== undefined };
}

type TableApi = "table" | "dataset";

/** The source's datasets, and which API this portal has for them. */
async function listDatasets(
  { portal, dry }: Run,
  sourceId: number,
  sourceExisted: boolean,
): Promise<{ tableApi: TableApi; datasets: Item[] }> {
  let tableApi: TableApi = "table";
  let datasets: Item[] = [];
  if (!(dry && !sourceExisted)) {
    try {
      datasets = await portal.list("biconnector.table.list", { filter: { sourceId } });
    } catch (err) {
      if (!(err instanceof PortalError) || !/METHOD_NOT_FOUND/.test(err.code)) throw err;
      tableApi = "dataset"; // older portals know only biconnector.dataset.*
      datasets = await portal.list("biconnector.dataset.list", { filter: { sourceId } });
    }
  }
  return { tableApi, datasets };
}

/** The source's dataset a planned table is registered as: by name, or by externalCode within the source (a changed prefix). */
function datasetOf(datasets: Item[], t: PlannedTable, sourceId: number): Item | undefined {
  return datasets.find((d) => d.name === t.name || (d.externalCode === t.code && idOf(d.sourceId) === sourceId));
}

/** Phase 3: one dataset per table, created or given its new columns (removed or retyped ones only with --prune). */
async function syncTable(
  { portal, opts, dry, note }: Run,
  t: PlannedTable,
  datasets: Item[],
  tableApi: TableApi,
  sourceId: number,
): Promise<void> {
  const { name, fields } = t;
  const object = `table ${name}`;
  try {
    const found = datasetOf(datasets, t, sourceId);
    if (!found) {
      if (!dry) {
        const fieldsParam = { sourceId, name, externalName: t.title, externalCode: t.code, description: t.title, fields };
        await portal.call(`biconnector.${tableApi}.add`, { fields: fieldsParam });
      }
      note(object, dry ? "would create" : "created", `${fields.length} field${fields.length === 1 ? "" : "s"}`, {
        table: t.code,
        changes: { added: fields.map((f) => f.name), removed: [], retyped: [] },
      });
      return;
    }
    // Existing dataset: add new columns; removed or retyped ones only with --prune.
    const current = datasetFields(itemOf(await portal.call(`biconnector.${tableApi}.get`, { id: idOf(found) })));
    const add = fields.filter((f) => !current.some((c) => c.name === f.name));
    const retyped = fields.filter((f) => current.some((c) => c.name === f.name && c.type !== f.type));
    const gone = current.filter((c) => !fields.some((f) => f.name === c.name));
    const remove = opts.prune ? [...gone, ...current.filter((c) => retyped.some((r) => r.name === c.name))] : [];
    const re = opts.prune ? retyped : [];
    const changes = {
      table: t.code,
      changes: { added: add.map((a) => a.name), removed: gone.map((g) => g.name), retyped: retyped.map((r) => r.name) },
    };
    if (add.length === 0 && remove.length === 0) {
      const pending = [...gone.map((g) => `-${g.name}`), ...retyped.map((r) => `~${r.name}`)];
      note(object, "unchanged", pending.length ? `columns ${pending.join(", ")} differ; run with --prune to apply` : undefined, changes);
      return;
    }
    if (!dry) {
      if (remove.length) await portal.call(`biconnector.${tableApi}.fields.update`, { id: idOf(found), delete: remove.map((r) => r.id) });
      if (add.length || re.length) await portal.call(`biconnector.${tableApi}.fields.update`, { id: idOf(found), add: [...add, ...re] });
    }
    const parts = [
      add.length ? `added ${add.map((a) => a.name).join(", ")}` : "",
      remove.length ? `removed ${remove.map((r) => r.name).join(", ")}` : "",
    ].filter(Boolean);
    note(object, dry ? "would update" : "updated", parts.join("; "), changes);
  } catch (err) {
    note(object, "failed", explain(err), { table: t.code });
  }
}

/** Phase 4 (--prune): datasets of tables the Worker no longer serves are deleted. */
async function pruneTables(
  { portal, opts, dry, note }: Run,
  planned: PlannedTable[],
  datasets: Item[],
  tableApi: TableApi,
  sourceId: number,
): Promise<void> {
  if (opts.prune) {
    const kept = new Set(planned.map((t) => datasetOf(datasets, t, sourceId)));
    for (const d of datasets) {
      if (kept.has(d) || planned.some((t) => t.name === d.name)) continue;
      // Only this source's datasets: a list that ignored its filter must not cost another source its datasets.
      if (idOf(d.sourceId) !== sourceId) continue;
      if (opts.tables?.length) continue; // a partial run never deletes what it did not look at
      if (!dry) await portal.call(`biconnector.${tableApi}.delete`, { id: idOf(d) });
      note(`table ${String(d.name)}`, dry ? "would delete" : "deleted", "no longer served by the Worker");
    }
  }
}

export async function register(portal: Portal, worker: WorkerApi, opts: RegisterOptions): Promise<Summary> {
  const lines: SummaryLine[] = [];
  const note: Run["note"] = (object, outcome, detail, extra) =>
    void lines.push({ object, outcome, ...(detail ? { detail } : {}), ...extra });
  const run: Run = { portal, opts, dry: opts.dryRun ?? false, base: opts.workerUrl.replace(/\/+$/, ""), note };
  const planned = await planTables(worker, opts, note);
  if (lines.length > 0 && !opts.skipInvalid) {
    lines.push({ object: "portal", outcome: "unchanged", detail: "nothing was sent: fix the problems above first" });
    return { lines, failed: true };
  }
  const connector = await registerConnector(run);
  const source = await registerSource(run, connector.connectorId, connector.existed);
  if (!source) return { lines, failed: true };
  const { tableApi, datasets } = await listDatasets(run, source.sourceId, source.existed);
  for (const t of planned) await syncTable(run, t, datasets, tableApi, source.sourceId);
  await pruneTables(run, planned, datasets, tableApi, source.sourceId);
  return { lines, failed: lines.some((l) => l.outcome === "failed") };
}

export function formatSummary(summary: Summary): string {
  const width = Math.max(...summary.lines.map((l) => l.object.length), 10);
  const out = summary.lines.map((l) => `${l.object.padEnd(width)}  ${l.outcome}${l.detail ? `: ${l.detail}` : ""}`);
  const changed = summary.lines.some((l) => l.outcome !== "unchanged");
  if (!changed) out.push("Nothing changed: the portal already matches the Worker.");
  return out.join("\n");
}
