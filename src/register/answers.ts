/**
 * How the portal's REST answers are read: each reader takes the `result` of
 * one method as Bitrix24's documentation shows it (api-reference/biconnector/
 * in bitrix24/b24restdocs; the shapes are kept, page by page, in
 * test/fixtures/portal-docs/) and accepts the older or other shape that a
 * portal of another generation sends. Nothing here calls the portal.
 */

type Item = Record<string, unknown>;

const isObject = (v: unknown): v is Item => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * An id as a number: current portals give integers, older ones (and the list
 * examples of the docs) numeric strings. NaN when there is none.
 */
export function idOf(value: unknown): number {
  if (isObject(value)) return idOf(value.id ?? value.ID);
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\d+$/.test(value.trim())) return Number(value);
  return NaN;
}

/**
 * `biconnector.connector.fields` (and `*.fields`): `{fields: [{title, type,
 * isRequired, isReadOnly, …}]}` — the accepted names are the titles
 * (biconnector-connector-fields.md). A keyed object `{fields: {name: {…}}}` is
 * read by its keys. Null when the answer names no field at all: then nothing
 * may be dropped for not being accepted.
 */
export function fieldNames(result: unknown): Set<string> | null {
  const fields = isObject(result) && "fields" in result ? result.fields : result;
  const names = Array.isArray(fields)
    ? fields.map((f) => (isObject(f) ? (f.title ?? f.name ?? f.code) : f)).filter((n): n is string => typeof n === "string" && n !== "")
    : isObject(fields)
      ? Object.keys(fields)
      : [];
  return names.length > 0 ? new Set(names) : null;
}

/** The fields of `*.fields` that must be sent (isRequired and not read-only), as the documentation marks them. */
export function requiredFieldNames(result: unknown): Set<string> {
  const fields = isObject(result) ? result.fields : undefined;
  if (!Array.isArray(fields)) return new Set();
  return new Set(
    fields
      .filter((f) => isObject(f) && f.isRequired === true && f.isReadOnly !== true && typeof f.title === "string")
      .map((f) => (f as Item).title as string),
  );
}

/** A list method's items: `result` is a flat array (50 a page); a few methods and older portals wrap it in `{items: […]}`. */
export function itemsOf(result: unknown): Item[] {
  const list = Array.isArray(result) ? result : isObject(result) && Array.isArray(result.items) ? result.items : [];
  return list.filter(isObject);
}

/** A `*.get` answer: `{item: {…}}` (biconnector-*-get.md); a bare object from portals that send one. */
export function itemOf(result: unknown): Item | null {
  if (!isObject(result)) return null;
  return isObject(result.item) ? result.item : result;
}

/**
 * A source, from `source.list` (flat: id, title, active, connectorId,
 * settings, …) or `source.get` (`{connection: {id, title, active, …},
 * connectorId, settings}`, biconnector-source-get.md), as one flat object.
 */
export function sourceOf(item: Item): Item {
  return isObject(item.connection) ? { ...item.connection, ...item, connection: undefined } : item;
}

/**
 * A source's settings as `{code: value}`: the portal answers
 * `[{id, code, name, type, value}]` (biconnector-source-get.md); a keyed
 * object is read as it is. Null when the answer carries no settings.
 */
export function settingValues(settings: unknown): Record<string, string> | null {
  if (Array.isArray(settings)) {
    const out: Record<string, string> = {};
    for (const s of settings)
      if (isObject(s) && typeof s.code === "string") out[s.code] = s.value === undefined || s.value === null ? "" : String(s.value);
    return out;
  }
  if (isObject(settings))
    return Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, v === undefined || v === null ? "" : String(v)]));
  return null;
}

/** A boolean as the portal writes it: true/false, "Y"/"N", 1/0, "1"/"0". */
export function flagOf(value: unknown): boolean | null {
  if (value === true || value === "Y" || value === 1 || value === "1" || value === "true") return true;
  if (value === false || value === "N" || value === 0 || value === "0" || value === "false") return false;
  return null;
}

/** A dataset's (table's) fields from `table.get`/`dataset.get`: `item.fields: [{id, name, externalCode, type, visible}]`. */
export function datasetFields(item: Item | null): { id: number; name: string; externalCode: string; type: string }[] {
  const fields = item?.fields;
  if (!Array.isArray(fields)) return [];
  return fields.filter(isObject).map((f) => ({
    id: idOf(f.id),
    name: String(f.name ?? ""),
    externalCode: String(f.externalCode ?? f.name ?? ""),
    type: String(f.type ?? "").toLowerCase(),
  }));
}

/**
 * Whether a value the portal holds equals the one we would send. Key order,
 * numbers written as strings, booleans written as Y/N and keys the portal adds
 * (a setting's id) do not count: only what we send is compared.
 */
export function sameValue(current: unknown, desired: unknown): boolean {
  if (Array.isArray(desired)) {
    return Array.isArray(current) && current.length === desired.length && desired.every((d, i) => sameValue(current[i], d));
  }
  if (isObject(desired)) return isObject(current) && Object.keys(desired).every((k) => sameValue(current[k], desired[k]));
  if (typeof desired === "boolean") return flagOf(current) === desired;
  if (typeof desired === "number") return current !== null && current !== "" && Number(current) === desired;
  return current === desired;
}
