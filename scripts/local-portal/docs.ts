/**
 * Bitrix24's documented REST answers, one file per method in
 * test/fixtures/portal-docs/ (each names the page and commit of
 * bitrix24/b24restdocs it was copied from). The local portal builds every
 * answer from these shapes, never from what the Worker's code expects.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const DOCS_DIR = join(import.meta.dirname, "..", "..", "test", "fixtures", "portal-docs");

export interface DocPage {
  path: string;
  commit: string;
  date?: string;
}

export interface DocFixture {
  method: string;
  pages: DocPage[];
  response: { status: number; body: Record<string, any> } | null;
  errors?: { status: number; body: Record<string, any> }[];
  errorCodes?: { code: string; description: string; status?: number }[];
  variants?: Record<string, { response?: { status: number; body: Record<string, any> } | null; why?: string; [k: string]: unknown }>;
  notes?: string[];
}

const cache = new Map<string, DocFixture>();

/** The documented page of one method (throws when the fixture is missing: the fake answers nothing undocumented). */
export function doc(method: string): DocFixture {
  let found = cache.get(method);
  if (!found) {
    found = JSON.parse(readFileSync(join(DOCS_DIR, `${method}.json`), "utf8")) as DocFixture;
    cache.set(method, found);
  }
  return found;
}

/** The documented `result` of a method's example answer. */
export function documentedResult(method: string): any {
  const r = doc(method).response;
  if (!r) throw new Error(`${method}: its page shows no example answer`);
  return structuredClone(r.body.result);
}

/** The `time` block every documented answer carries. */
export function documentedTime(method: string): unknown {
  return structuredClone(doc(method).response?.body.time);
}

/** The field names a `*.fields` page lists (the `title` of each item), in its order. */
export function documentedFields(method: string): { title: string; type: string; isRequired: boolean; isReadOnly: boolean }[] {
  return documentedResult(method).fields;
}

/** The documented description of an error code, from the page's table of codes (or the method's example error). */
export function documentedError(method: string, code: string): { code: string; description: string; status: number } {
  const f = doc(method);
  const row = f.errorCodes?.find((e) => e.code === code);
  const example = f.errors?.find((e) => e.body.error === code);
  return { code, description: row?.description ?? example?.body.error_description ?? "", status: row?.status ?? example?.status ?? 400 };
}
