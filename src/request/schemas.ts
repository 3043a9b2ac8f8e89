/**
 * Request shapes of the four endpoints, for both encodings. Form bodies carry
 * every value as text and lists as `{"0":…}` maps; JSON bodies carry numbers
 * and arrays. PHP omits null and empty-array parameters, so everything but
 * the table is optional.
 */
import * as z from "zod";
import { AppError, firstIssue } from "../errors";
import type { DateFormat } from "../model";
import { DATE_FORMAT_HELP, normaliseDateFormat } from "../values/types";

const text = z.union([z.string(), z.number(), z.boolean()]).transform((v) => (typeof v === "boolean" ? (v ? "1" : "0") : String(v)));

/** A PHP list (`{"0":a,"1":b}`), a JSON array, or a single value → array. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (Array.isArray(v) ? v : v !== null && typeof v === "object" ? Object.values(v) : [v]), z.array(item));

/** The fields every connector request carries (the token itself is checked by auth, before validation). */
export const CheckRequest = z.looseObject({ connection: z.record(z.string(), text).optional(), token: text.optional() });

export const TableListRequest = CheckRequest.extend({ searchString: text.optional() });

export const TableDescriptionRequest = CheckRequest.extend({ table: text.optional(), name: text.optional() });

export const DataRequest = TableDescriptionRequest.extend({
  select: list(text).optional(),
  // Not z.record: it copies into a fresh object, where an own "__proto__" key
  // (JSON.parse makes one) is lost and the unfiltered table would be served.
  // The map goes to the filter compiler as it came, and the compiler refuses
  // every key it cannot apply.
  filter: z
    .custom<Record<string, unknown>>((v) => v !== null && typeof v === "object" && !Array.isArray(v), "expected a map of filter conditions")
    .optional(),
  limit: z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().int().min(0).optional()),
  mapFields: z.record(z.string(), text).optional(),
});

export type DataRequest = z.infer<typeof DataRequest>;

export function validate<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const { where, message } = firstIssue(result.error, "body");
    throw new AppError("REQUEST_INVALID", `Parameter ${where} is invalid: ${message}.`);
  }
  return result.data;
}

/** The table code from `table` (what the portal sends) or `name` (older docs). */
export function tableParam(req: { table?: string; name?: string }): string {
  const code = (req.table ?? req.name ?? "").trim();
  if (code === "") throw new AppError("REQUEST_INVALID", "Parameter table is missing: send table=<code> (a code from /table_list).");
  return code;
}

/**
 * The portal's date format from the source's `date_format` setting (empty:
 * the Worker's default). /check and /data both call this, so a setting /data
 * would refuse is refused when the source is created, where the portal shows
 * the message to the person typing it.
 */
export function portalDateFormat(connection: Record<string, string> | undefined, fallback: DateFormat): DateFormat {
  const setting = connection?.date_format;
  const format = normaliseDateFormat(setting);
  if (format === null) {
    throw new AppError(
      "REQUEST_INVALID",
      `The source setting date_format "${setting!.trim()}" is not a date format the connector knows. Use one of: ${DATE_FORMAT_HELP}; or leave it empty for the Worker's default.`,
    );
  }
  return format ?? fallback;
}
