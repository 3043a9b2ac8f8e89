/**
 * Resolving the portal's field identifiers to columns. The portal names
 * fields by dataset field name; older portals or curl users may use the
 * original header text. Resolution is case-insensitive and goes through
 * `mapFields` ({externalCode: fieldName}) when the portal sends it.
 *
 * A field renamed in the portal (name ≠ externalCode) can only be resolved
 * through `mapFields`, which portals before 25.1150 do not send: then the
 * answer is a FIELD_UNKNOWN that says so and how to fix it.
 */
import { AppError } from "../errors";
import type { Column } from "../model";

export class FieldResolver {
  private readonly byCode = new Map<string, number>();
  private readonly byName = new Map<string, number>();
  private readonly externalByName = new Map<string, string>();

  constructor(
    private readonly columns: readonly Column[],
    mapFields: Record<string, string> | undefined,
  ) {
    columns.forEach((c, i) => {
      this.byCode.set(c.code.toUpperCase(), i);
      const name = c.name.trim().toLocaleLowerCase();
      if (!this.byName.has(name)) this.byName.set(name, i);
    });
    for (const [external, name] of Object.entries(mapFields ?? {})) {
      this.externalByName.set(name.trim().toUpperCase(), external.trim().toUpperCase());
    }
  }

  /** Column index for an identifier, or undefined. */
  find(identifier: string): number | undefined {
    const id = identifier.trim();
    const upper = id.toUpperCase();
    const external = this.externalByName.get(upper);
    if (external !== undefined && this.byCode.has(external)) return this.byCode.get(external);
    return this.byCode.get(upper) ?? this.byName.get(id.toLocaleLowerCase());
  }

  /** Column index for an identifier; 400 FIELD_UNKNOWN naming it otherwise. */
  resolve(identifier: string, where: string): number {
    const i = this.find(identifier);
    if (i === undefined) {
      const known = this.columns.map((c) => c.code).join(", ");
      const mapped = this.externalByName.get(identifier.trim().toUpperCase());
      const why =
        mapped !== undefined
          ? ` mapFields maps it to the column code "${mapped}", which the table does not have (the file's columns changed?): run \`npm run setup\` again.`
          : " If it was renamed in the portal (the dataset field's name differs from its column code), the Worker cannot tell which column it is," +
            " because the portal did not send mapFields: rename the field back to its column code, or update the portal to 25.1150 or later, which sends mapFields.";
      throw new AppError("FIELD_UNKNOWN", `Unknown field "${identifier}" in ${where}. The table's fields are: ${known}.${why}`);
    }
    return i;
  }
}
