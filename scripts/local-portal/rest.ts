/**
 * The portal's REST methods that the Worker, the setup CLI and the app page
 * call, answering in the shapes of Bitrix24's documentation (docs.ts: each
 * method's page) for the two revisions of the biconnector pages
 * (test/fixtures/portal-docs/README.md):
 *  - "current" (b24restdocs ef134c1a): biconnector.table.* exists, list ids
 *    are integers, module errors come inside `result` with HTTP 200,
 *    connector.add/update accept supportMapping and sourceCode, source.add
 *    and source.update do not read `active`, every source.update calls
 *    urlCheck, and dataset.delete no longer works;
 *  - "older" (b24restdocs 5988ed13): only biconnector.dataset.*, list ids are
 *    numeric strings ("id": "11"), errors at the root with HTTP 200, no
 *    supportMapping/sourceCode.
 * On both, connector.fields lists neither supportMapping nor sourceCode.
 * Validation follows each page's parameter table and error codes.
 */
import { documentedError, documentedFields, documentedResult } from "./docs";

export type Generation = "current" | "older";
type Item = Record<string, any>;

/** A method's failure, answered in the generation's error placement. */
export class RestFailure extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly status = 400,
    /** Auth, limit and unknown-method errors are at the root on every portal (system-errors.json). */
    readonly system = false,
  ) {
    super(`${code}: ${description}`);
  }
}

const NAME_RE = /^[a-z][a-z0-9_]*$/;
const FIELD_RE = /^[A-Z][A-Z0-9_]*$/;
const FIELD_TYPES = ["int", "string", "double", "date", "datetime", "money", "timezone"];
const SETTING_TYPES = ["STRING", "INT"];

function fail(method: string, code: string, fallback = ""): never {
  const e = documentedError(method, code);
  throw new RestFailure(code, e.description || fallback, e.status || 200);
}

const now = () => new Date().toISOString().slice(0, 19).replace("T", " ");

/** A documented list filter: `=`(default) `!`/`!=` `@` `!@` `%` `>` `>=` `<` `<=` on the item's own fields. */
function matches(item: Item, filter: Item | undefined, ignored: string[]): boolean {
  if (!filter || typeof filter !== "object") return true;
  for (const [key, want] of Object.entries(filter)) {
    const m = /^(!@|!=|>=|<=|=%|%=|@|!|%|=|>|<)?(.+)$/.exec(key)!;
    const [op = "=", field] = [m[1], m[2]];
    if (ignored.includes(field)) continue;
    const have = item[field];
    const eq = (a: unknown, b: unknown) => String(a) === String(b);
    const list = Array.isArray(want) ? want : [want];
    const ok =
      op === "="
        ? eq(have, want)
        : op === "!" || op === "!="
          ? !eq(have, want)
          : op === "@"
            ? list.some((w) => eq(have, w))
            : op === "!@"
              ? !list.some((w) => eq(have, w))
              : op === "%"
                ? String(have ?? "")
                    .toLowerCase()
                    .includes(String(want).toLowerCase())
                : op === ">"
                  ? Number(have) > Number(want)
                  : op === ">="
                    ? Number(have) >= Number(want)
                    : op === "<"
                      ? Number(have) < Number(want)
                      : op === "<="
                        ? Number(have) <= Number(want)
                        : true;
    if (!ok) return false;
  }
  return true;
}

export class PortalRest {
  connectors: Item[] = [];
  sources: Item[] = [];
  /** Tables (datasets): one store for table.* and dataset.*, as on the portal. */
  datasets: Item[] = [];
  private nextId = 1;

  constructor(readonly generation: Generation) {}

  reset(): void {
    this.connectors = [];
    this.sources = [];
    this.datasets = [];
  }

  /**
   * The keys connector.add/update take: the writable fields of
   * connector.fields, and on the current revision the two its add page adds
   * (supportMapping, sourceCode: biconnector-connector-add.md@ef134c1a).
   */
  private connectorKeys(): Item[] {
    const documented = documentedFields("biconnector.connector.fields");
    if (this.generation === "older") return documented;
    const optional = (title: string, type: string) => ({ title, type, isRequired: false, isReadOnly: false });
    return [...documented, optional("supportMapping", "boolean"), optional("sourceCode", "string")];
  }

  /** An item as a list answers it: `select` applied, ids as this generation writes them. */
  private listed(item: Item, select: unknown, omit: string[]): Item {
    const keys = Array.isArray(select) && select.length > 0 ? select.map(String) : Object.keys(item).filter((k) => !omit.includes(k));
    const out: Item = {};
    for (const k of keys) if (k in item) out[k] = this.generation === "older" && k === "id" ? String(item[k]) : structuredClone(item[k]);
    return out;
  }

  private list(method: string, items: Item[], p: Item, ignoredInFilter: string[], omit: string[] = []): Item[] {
    if (p.select !== undefined && !Array.isArray(p.select)) fail(method, "VALIDATION_SELECT_TYPE", 'Parameter "select" must be array.');
    const page = Math.max(1, Number(p.page ?? 1) || 1);
    return items
      .filter((i) => matches(i, p.filter, ignoredInFilter))
      .slice((page - 1) * 50, page * 50)
      .map((i) => this.listed(i, p.select, omit));
  }

  private byId(method: string, items: Item[], p: Item, notFound: string): Item {
    if (p.id === undefined || p.id === null || p.id === "") fail(method, "VALIDATION_ID_NOT_PROVIDED", "ID is missing.");
    if (!/^\d+$/.test(String(p.id)) || Number(p.id) <= 0) fail(method, "VALIDATION_INVALID_ID_FORMAT", "ID has to be a positive integer.");
    return items.find((x) => x.id === Number(p.id)) ?? fail(method, notFound);
  }

  private fieldsParam(method: string, p: Item): Item {
    const f = p.fields;
    if (f === undefined || f === null || typeof f !== "object" || Array.isArray(f) || Object.keys(f).length === 0)
      fail(method, "VALIDATION_FIELDS_NOT_PROVIDED", "Fields not provided.");
    return f;
  }

  /** Unknown keys and missing required ones, by the method's `*.fields` page. */
  private checkKeys(method: string, f: Item, documented: Item[], adding: boolean): void {
    const known = new Set(documented.filter((d) => !d.isReadOnly).map((d) => d.title));
    const unknown = Object.keys(f).filter((k) => !known.has(k));
    if (unknown.length) fail(method, "VALIDATION_UNKNOWN_PARAMETERS", `Unknown parameters: ${unknown.join(", ")}`);
    if (adding) {
      const missing = documented.filter(
        (d) => d.isRequired && !d.isReadOnly && (f[d.title] === undefined || f[d.title] === "" || f[d.title] === null),
      );
      if (missing.length)
        fail(method, "VALIDATION_REQUIRED_FIELD_MISSING", `Required fields missing: ${missing.map((d) => d.title).join(", ")}`);
    }
  }

  /** Column items `{name, externalCode, type}`, checked against each other and against the columns the table has. */
  private checkFieldItems(method: string, fields: unknown, existing: Item[]): Item[] {
    if (!Array.isArray(fields)) fail(method, "VALIDATION_FIELDS_NOT_PROVIDED", "Fields not provided.");
    // The code each page gives a repeated name: table.add DUPLICATE_FIELDS, dataset.add and fields.update their own.
    const repeatedName = method === "biconnector.table.add" ? "DUPLICATE_FIELDS" : "VALIDATION_DUPLICATE_FIELD_NAME";
    const names = new Set<string>();
    const codes = new Set<string>();
    for (const x of fields as Item[]) {
      if (!x || typeof x.name !== "string" || typeof x.externalCode !== "string" || typeof x.type !== "string")
        fail(
          method,
          method.endsWith("fields.update")
            ? "VALIDATION_FIELD_ADD_MISSING_REQUIRED_FIELDS"
            : "VALIDATION_FIELD_MISSING_REQUIRED_PARAMETERS",
        );
      if (!FIELD_RE.test(x.name)) fail(method, "VALIDATION_FIELD_NAME_INVALID_FORMAT");
      if (x.name.length > 32) fail(method, "VALIDATION_FIELD_NAME_TOO_LONG");
      if (names.has(x.name)) fail(method, repeatedName);
      if (codes.has(x.externalCode)) fail(method, "VALIDATION_DUPLICATE_FIELD_CODE");
      if (existing.some((e) => e.name === x.name)) fail(method, "VALIDATION_DUPLICATE_EXIST_NAME");
      if (existing.some((e) => e.externalCode === x.externalCode)) fail(method, "VALIDATION_DUPLICATE_EXIST_CODE");
      if (!FIELD_TYPES.includes(x.type)) fail(method, "VALIDATION_FIELD_INVALID_TYPE");
      names.add(x.name);
      codes.add(x.externalCode);
    }
    return fields as Item[];
  }

  /**
   * One REST call. `check` is the portal's synchronous urlCheck call (on
   * source.add and a source.update that changes settings); it throws the
   * documented SOURCE_CREATE_CONNECTION_ERROR when the Worker refuses.
   */
  async handle(
    method: string,
    p: Item,
    check: (connector: Item, settings: Record<string, string>, failure?: string) => Promise<void>,
  ): Promise<unknown> {
    const family = /^biconnector\.(connector|source|dataset|table)\./.exec(method)?.[1];
    if (family === "table" && this.generation === "older") throw new RestFailure("ERROR_METHOD_NOT_FOUND", "Method not found!", 404, true);
    switch (method) {
      case "biconnector.connector.fields":
        return documentedResult(method);
      case "biconnector.connector.list":
        return this.list(method, this.connectors, p, ["settings"]);
      case "biconnector.connector.get":
        return { item: structuredClone(this.byId(method, this.connectors, p, "CONNECTOR_NOT_FOUND")) };
      case "biconnector.connector.add":
      case "biconnector.connector.update": {
        const adding = method.endsWith("add");
        const current = adding ? null : this.byId(method, this.connectors, p, "CONNECTOR_NOT_FOUND");
        const f = this.fieldsParam(method, p);
        this.checkKeys(method, f, this.connectorKeys(), adding);
        if (f.settings !== undefined) {
          if (!Array.isArray(f.settings)) fail(method, "VALIDATION_INVALID_FIELD_TYPE", 'Field "settings" must be of type array.');
          for (const s of f.settings as Item[]) {
            if (!s || typeof s.code !== "string" || typeof s.name !== "string" || s.code === "" || s.name === "")
              fail(method, "VALIDATION_SETTINGS_MISSING_REQUIRED_FIELDS");
            if (!SETTING_TYPES.includes(s.type)) fail(method, "VALIDATION_SETTINGS_INVALID_TYPE");
          }
        }
        if (f.sort !== undefined && !Number.isInteger(f.sort)) fail(method, "VALIDATION_INVALID_FIELD_TYPE", "sort must be an integer");
        if (f.supportMapping !== undefined && typeof f.supportMapping !== "boolean")
          fail(method, "VALIDATION_INVALID_FIELD_TYPE", "supportMapping must be a boolean");
        if (current) {
          Object.assign(current, structuredClone(f));
          return true;
        }
        const defaults = this.generation === "current" ? { supportMapping: false, sourceCode: "" } : {};
        const c = { id: this.nextId++, sort: 100, description: "", ...defaults, ...structuredClone(f), dateCreate: now() };
        this.connectors.push(c);
        return { id: c.id };
      }
      case "biconnector.connector.delete": {
        const c = this.byId(method, this.connectors, p, "CONNECTOR_NOT_FOUND");
        this.connectors = this.connectors.filter((x) => x !== c);
        return true;
      }

      case "biconnector.source.fields":
        return documentedResult("biconnector.source.fields");
      case "biconnector.source.list":
        return this.list(method, this.sources, p, ["settings"]);
      case "biconnector.source.get": {
        const s = this.byId(method, this.sources, p, "SOURCE_NOT_FOUND");
        const { connectorId, settings, ...connection } = structuredClone(s);
        return { item: { connection, connectorId, settings } };
      }
      case "biconnector.source.add": {
        const f = this.fieldsParam(method, p);
        if (f.active !== undefined && typeof f.active !== "boolean")
          fail(method, "VALIDATION_INVALID_FIELD_TYPE", "active must be a boolean");
        for (const k of ["title", "connectorId", "settings"])
          if (f[k] === undefined || f[k] === "") fail(method, "VALIDATION_REQUIRED_FIELD_MISSING", `Required field missing: ${k}`);
        const connector = this.connectors.find((c) => c.id === Number(f.connectorId)) ?? fail(method, "CONNECTOR_NOT_FOUND");
        const values = this.settingsParam(method, f.settings, connector);
        await check(connector, values);
        const id = this.nextId++;
        const s = {
          id,
          title: String(f.title),
          type: "rest",
          code: `rest_${id}`,
          description: String(f.description ?? ""),
          active: this.generation === "current" ? true : (f.active ?? true),
          dateCreate: now(),
          dateUpdate: now(),
          createdById: 1,
          updatedById: 1,
          connectorId: connector.id,
          settings: this.storedSettings(connector, values),
        };
        this.sources.push(s);
        return { id };
      }
      case "biconnector.source.update": {
        const s = this.byId(method, this.sources, p, "SOURCE_NOT_FOUND");
        const f = this.fieldsParam(method, p);
        if (f.active !== undefined && typeof f.active !== "boolean")
          fail(method, "VALIDATION_INVALID_FIELD_TYPE", "active must be a boolean");
        if (f.connectorId !== undefined) fail(method, "VALIDATION_IMMUTABLE_FIELD", "connectorId cannot be changed");
        const connector = this.connectors.find((c) => c.id === s.connectorId)!;
        const held = Object.fromEntries((s.settings as Item[]).map((x) => [x.code, x.value]));
        // Settings are merged by key; the current revision calls urlCheck on every update.
        const values = f.settings !== undefined ? this.settingsParam(method, { ...held, ...f.settings }, connector) : held;
        if (f.settings !== undefined || this.generation === "current") await check(connector, values, "SOURCE_UPDATE_CONNECTION_ERROR");
        if (f.settings !== undefined) s.settings = this.storedSettings(connector, values);
        for (const k of this.generation === "current" ? ["title", "description"] : ["title", "description", "active"])
          if (f[k] !== undefined) s[k] = f[k];
        s.dateUpdate = now();
        return true;
      }
      case "biconnector.source.delete": {
        const s = this.byId(method, this.sources, p, "SOURCE_NOT_FOUND");
        this.sources = this.sources.filter((x) => x !== s);
        return true;
      }

      case "biconnector.dataset.fields":
      case "biconnector.table.fields":
        return documentedResult(method);
      case "biconnector.dataset.list":
      case "biconnector.table.list":
        return this.list(method, this.datasets, p, ["fields"], ["fields"]);
      case "biconnector.dataset.get":
      case "biconnector.table.get": {
        // The get pages show no sourceId (only the lists carry it).
        const { sourceId: _, ...item } = structuredClone(this.byId(method, this.datasets, p, "DATASET_NOT_FOUND"));
        return { item };
      }
      case "biconnector.dataset.add":
      case "biconnector.table.add": {
        const f = this.fieldsParam(method, p);
        for (const k of ["sourceId", "name", "externalName", "externalCode", "fields"])
          if (f[k] === undefined || f[k] === "") fail(method, "VALIDATION_REQUIRED_FIELD_MISSING", `Required field missing: ${k}`);
        if (typeof f.name !== "string" || !NAME_RE.test(f.name) || f.name.length > 230) fail(method, "VALIDATION_DATASET_NAME_INVALID");
        if (!this.sources.some((s) => s.id === Number(f.sourceId))) fail(method, "SOURCE_NOT_FOUND");
        if (this.datasets.some((d) => d.name === f.name)) fail(method, "DATASET_ALREADY_EXIST");
        if (Array.isArray(f.fields) && f.fields.length === 0 && method === "biconnector.table.add") fail(method, "FIELDS_EMPTY");
        const fields = this.checkFieldItems(method, f.fields, []);
        const id = this.nextId++;
        const d = {
          id,
          type: "rest",
          name: f.name,
          description: String(f.description ?? ""),
          externalCode: String(f.externalCode),
          externalName: String(f.externalName),
          dateCreate: now(),
          dateUpdate: now(),
          createdById: 1,
          updatedById: 1,
          externalId: method.startsWith("biconnector.dataset") ? this.nextId++ : 0,
          ...(this.generation === "current" ? { csvDelimiter: "", csvEncoding: "", csvHasHeaders: false } : {}),
          sourceId: Number(f.sourceId),
          fields: fields.map((x) => ({
            id: this.nextId++,
            datasetId: id,
            type: x.type,
            name: x.name,
            externalCode: x.externalCode,
            visible: true,
          })),
        };
        this.datasets.push(d);
        return { id };
      }
      case "biconnector.dataset.update":
      case "biconnector.table.update": {
        const d = this.byId(method, this.datasets, p, "DATASET_NOT_FOUND");
        const f = this.fieldsParam(method, p);
        if (f.description !== undefined) d.description = String(f.description);
        d.dateUpdate = now();
        return true;
      }
      case "biconnector.dataset.delete":
      case "biconnector.table.delete": {
        // biconnector-dataset-delete.md@ef134c1a: dataset.delete no longer works (HTTP 500 where BI Builder runs).
        if (method === "biconnector.dataset.delete" && this.generation === "current")
          throw new RestFailure("INTERNAL_SERVER_ERROR", "Internal server error", 500, true);
        const d = this.byId(method, this.datasets, p, "DATASET_NOT_FOUND");
        this.datasets = this.datasets.filter((x) => x !== d);
        return true;
      }
      case "biconnector.dataset.fields.update":
      case "biconnector.table.fields.update": {
        const d = this.byId(method, this.datasets, p, "DATASET_NOT_FOUND");
        // Applied in the page's order: update, add, delete.
        for (const u of Array.isArray(p.update) ? p.update : []) {
          const field = d.fields.find((x: Item) => x.id === Number(u?.id));
          if (!field || typeof u.visible !== "boolean") fail(method, "VALIDATION_FIELD_UPDATE_MISSING_REQUIRED_FIELDS");
          field.visible = u.visible;
        }
        const added = this.checkFieldItems(method, p.add ?? [], d.fields);
        const del = (Array.isArray(p.delete) ? p.delete : []).map(Number);
        if (del.some((id: number) => !d.fields.some((x: Item) => x.id === id))) fail(method, "VALIDATION_FIELD_DELETE_INVALID_ID");
        d.fields = [
          ...d.fields,
          ...added.map((x) => ({
            id: this.nextId++,
            datasetId: d.id,
            type: x.type,
            name: x.name,
            externalCode: x.externalCode,
            visible: true,
          })),
        ].filter((x: Item) => !del.includes(x.id));
        d.dateUpdate = now();
        return true;
      }
      default:
        throw new RestFailure("ERROR_METHOD_NOT_FOUND", "Method not found!", 404, true);
    }
  }

  /** source.add/update's `settings`: `{code: value}` for the connector's declared settings. */
  private settingsParam(method: string, settings: unknown, connector: Item): Record<string, string> {
    if (!settings || typeof settings !== "object" || Array.isArray(settings))
      fail(method, "VALIDATION_INVALID_FIELD_TYPE", 'Field "settings" must be of type object.');
    const declared = (connector.settings ?? []) as Item[];
    const out: Record<string, string> = {};
    for (const s of declared) {
      const v = (settings as Item)[s.code];
      if (v === undefined || v === null || String(v).trim() === "")
        fail(method, "VALIDATION_REQUIRED_FIELD_MISSING", `Setting missing: ${s.code}`);
      out[s.code] = String(v).trim();
    }
    return out;
  }

  /** Settings as the portal keeps and answers them: `[{id, code, name, type, value}]` (biconnector-source-get.md). */
  private storedSettings(connector: Item, values: Record<string, string>): Item[] {
    return ((connector.settings ?? []) as Item[]).map((s) => ({
      code: s.code,
      name: s.name,
      type: s.type,
      value: values[s.code],
      id: this.nextId++,
    }));
  }
}
