/**
 * A declared schema beats inference. Next to `sales.csv` an operator may put
 * `sales.csv.schema.json`; a URL table may carry the same object as `schema`.
 */
import * as z from "zod";
import { AppError, firstIssue } from "../errors";
import { FORMATS } from "../formats/registry";
import type { DateFormat, Sidecar } from "../model";
import { normalizeEncoding, unsupportedEncoding } from "../values/encodings";
import { parseJson } from "../values/json";
import { DATE_FORMAT_HELP, DECLARED_TYPES, declaredType, normaliseDateFormat } from "../values/types";
import { FIELD_CODE_RE, phpNonEmpty } from "./naming";

// A header further down than this is no report layout; the footer rows are held in memory while reading.
const MAX_HEADER_ROW = 1000;
const MAX_FOOTER_ROWS = 1000;

const ColumnOverride = z
  .object({
    code: z.string().regex(FIELD_CODE_RE, "must match ^[A-Z][A-Z0-9_]{0,31}$ (a portal field name)").optional(),
    // The portal treats "" and "0" as empty and then rejects the whole description.
    name: z
      .string()
      .trim()
      .refine((n) => phpNonEmpty(n, "") !== "", 'must not be empty, blank or "0" (the portal treats those as no name)')
      .optional(),
    // `money` is read as `double`: the portal must never be answered `money`.
    type: z.enum(DECLARED_TYPES).transform(declaredType).optional(),
  })
  .strict();

export const SidecarSchema = z
  .object({
    format: z.enum(FORMATS.extensions).optional(),
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
    dateFormat: z
      .string()
      .transform((v, ctx): DateFormat => {
        const f = normaliseDateFormat(v);
        if (!f) ctx.addIssue({ code: "custom", message: `must be one of ${DATE_FORMAT_HELP}` });
        return f ?? "DD.MM.YYYY";
      })
      .optional(),
    /**
     * The table's main date column (header text or code): answered as the
     * first date/datetime column, because the portal applies a dashboard's
     * date range to the first one.
     */
    dateColumn: z.string().trim().min(1).optional(),
    /** XLSX: the worksheet to read, by name (default: the first). */
    sheet: z.string().min(1).max(31, "must be a sheet name (Excel allows at most 31 characters)").optional(),
    /** Columns by their header text (or JSON key). */
    columns: z.record(z.string(), ColumnOverride).optional(),
    /** Report layouts (formats/report-layout.ts): the header's row (from 1, blank lines counted), or the rows above it; replaces detection. */
    headerRow: z.number().int().min(1).max(MAX_HEADER_ROW).optional(),
    skipRows: z
      .number()
      .int()
      .min(0)
      .max(MAX_HEADER_ROW - 1)
      .optional(),
    /** Rows dropped at the end, exactly (0: none); replaces totals detection. */
    footerRows: z.number().int().min(0).max(MAX_FOOTER_ROWS).optional(),
  })
  .strict() satisfies z.ZodType<Sidecar>;

export function parseSidecar(text: string, where: string): Sidecar {
  const parsed = parseJson(text);
  if (!parsed.ok) throw sidecarError(where, `it is not valid JSON (${parsed.error})`);
  return validateSidecar(parsed.value, where);
}

export function validateSidecar(json: unknown, where: string): Sidecar {
  const result = SidecarSchema.safeParse(json);
  if (!result.success) {
    const issue = firstIssue(result.error);
    throw sidecarError(where, `${issue.where}: ${issue.message}`);
  }
  return result.data;
}

export function sidecarError(where: string, detail: string): AppError {
  return new AppError("SCHEMA_INVALID", `The declared schema ${where} is invalid: ${detail}. Fix or delete it.`);
}
