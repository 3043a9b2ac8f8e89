/**
 * The identity of a table's reading: everything that shapes an answer, as
 * one string. A description, a manifest and a compiled form are each used
 * only while the identity they were made under is the live one:
 *
 * - the source: an R2 key, or a URL table's whole declaration (two tables on
 *   one URL with different formats or schemas are two readings);
 * - the content version: the R2 etag, a URL's ETag or Last-Modified;
 * - the sidecar's version: its etag (R2 etags are content digests), "-" when
 *   there is none (removing a sidecar changes the reading too); a URL
 *   table's inline schema is part of its source;
 * - the configuration that changes how a file reads or is typed (READING_CONFIG);
 * - with `description`: the reader's decisions (encoding, dialect, …) and
 *   what was decided with them (layout: header row, skipped and footer rows;
 *   columns, types, decimal comma, date column). The sidecar names the
 *   sheet, the declared encoding and layout; these say what the reader made
 *   of the file, so a table described from a manifest (the whole file) and
 *   one described from its first rows (the sample) are two readings;
 * - with `manifest`: the version of the manifest an upload left for this
 *   content ("-" for none), which decides the description when it applies;
 * - with `layout`: the layout version of a stored form (compiled/storage.ts).
 *
 * Without a description the identity names what is about to be described
 * (the description cache's key); with one, the reading itself.
 */
import type { Config } from "../config/config";
import type { Description, TableEntry } from "../model";

/**
 * The configuration that changes how a file reads or is typed. None does:
 * DEFAULT_DATE_FORMAT reads the portal's filter values, per request and the
 * same way on every path (streaming, compiled); it shapes no description,
 * manifest or compiled form. A variable that does goes here.
 */
const READING_CONFIG = [] as const satisfies readonly (keyof Config)[];

/** Which table is read: an R2 key fixes the extension and gzip; a URL table declares them, and its schema. */
export function sourceOf(entry: TableEntry): string {
  const src = entry.source;
  if (src.kind === "r2") return `r2:${src.key}`;
  const { url, format, gzip, schema } = src.table;
  return `url:${entry.code}:${JSON.stringify([url, format, gzip ?? false, schema ?? null])}`;
}

export interface ReadingParts {
  source: string;
  version: string;
  sidecar: string;
  config: Config;
  manifest?: string;
  description?: Description;
  layout?: number;
}

/** What a Description decides about the answer's bytes: the reader's decisions and everything decided with them. */
function decided(d: Description): unknown {
  const { reader, ...plain } = d;
  return { format: reader.format, decisions: reader.decisions?.() ?? null, ...plain };
}

export function readingIdentity(parts: ReadingParts): string {
  const config = Object.fromEntries(READING_CONFIG.map((k) => [k, parts.config[k]]));
  return JSON.stringify({
    source: parts.source,
    version: parts.version,
    sidecar: parts.sidecar,
    config,
    ...(parts.manifest !== undefined ? { manifest: parts.manifest } : {}),
    ...(parts.description ? { description: decided(parts.description) } : {}),
    ...(parts.layout !== undefined ? { layout: parts.layout } : {}),
  });
}

/** An identity short enough for R2 custom metadata (2 KiB in all): its SHA-256, hex. */
export async function identityDigest(identity: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(identity));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
