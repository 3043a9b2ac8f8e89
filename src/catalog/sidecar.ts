/**
 * A declared schema beats inference. Next to `sales.csv` an operator may put
 * `sales.csv.schema.json`; a URL table may carry the same object as `schema`.
 */
import * as z from "zod";
import { AppError } from "../http/errors";
import { COLUMN_TYPES, DATE_FORMATS } from "../values/types";
import { normalizeEncoding, unsupportedEncoding } from "../parse/decode";
import { FIELD_CODE_RE, phpNonEmpty } from "./naming";

const ColumnOverride = z
  .object({
    code: z.string().regex(FIELD_CODE_RE, "must match ^[A-Z][A-Z0-9_]{0,31}$ (a portal field name)").optional(),
    // The portal treats "" and "0" as empty and then rejects the whole description.
    name: z
      .string()
      .trim()
      .refine((n) => phpNonEmpty(n, "") !== "", 'must not be empty, blank or "0" (the portal treats those as no name)')
      .optional(),
    type: z.enum(COLUMN_TYPES).optional(),
  })
  .strict();

export const SidecarSchema = z
  .object({
    format: z.enum(["csv", "tsv", "json", "ndjson"]).optional(),
    // Canonical label, so that every spelling of UTF-8 is read strictly.
    encoding: z
      .string()
      .transform((label, ctx) => {
        const canonical = normalizeEncoding(label);
        if (canonical) return canonical;
        ctx.addIssue({ code: "custom", message: unsupportedEncoding(label) });
        return z.NEVER;
      })
      .optional(),
    delimiter: z.enum([",", ";", "\t", "|"]).optional(),
    decimalSeparator: z.enum([".", ","]).optional(),
    dateFormat: z.enum(DATE_FORMATS).optional(),
    /** Columns by their header text (or JSON key). */
    columns: z.record(z.string(), ColumnOverride).optional(),
  })
  .strict();

export type Sidecar = z.infer<typeof SidecarSchema>;

export function parseSidecar(text: string, where: string): Sidecar {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw schemaError(where, `it is not valid JSON (${(err as Error).message})`);
  }
  return validateSidecar(json, where);
}

export function validateSidecar(json: unknown, where: string): Sidecar {
  const result = SidecarSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
    throw schemaError(where, `${path}: ${issue.message}`);
  }
  return result.data;
}

export function schemaError(where: string, detail: string): AppError {
  return new AppError("SCHEMA_INVALID", 422, `The declared schema ${where} is invalid: ${detail}. Fix or delete it.`);
}
