/**
 * Type inference over a sample of rows. A column gets the narrowest type that
 * every non-empty sample value fits: int ⊂ double, date ⊂ datetime, else
 * string. Empty cells decide nothing; a column with no values is a string.
 *
 * Numbers are read as people write them (values/numbers.ts), under one
 * convention per column (NumberFormat): the one every value of the column
 * fits. Where the column's values fit both a decimal point and a decimal
 * comma (`12,500` alone, `1.500`), the file's other columns decide (their
 * numbers, or month-first dates: en-US writes a decimal point), then
 * the table's default (see chooseFormat); the sidecar's `decimalSeparator`
 * overrides all of it.
 */

import type { ColumnType, NumberFormat, SlashOrder } from "../model";
import { dateKind } from "../values/dates";
import { COMMA_FORMATS, NUMBER_FORMATS, numberShape, POINT_FORMATS } from "../values/numbers";

export interface Inferred {
  type: ColumnType;
  /** For slash dates: the order every sample value fits (month first if both do). */
  slashOrder: SlashOrder;
  /** How the column's numbers are written (also for a text column a sidecar may declare numeric). */
  numberFormat: NumberFormat;
}

const ALL_FORMATS = (1 << NUMBER_FORMATS.length) - 1;
const TEXT_COLUMN_CHECKS = 1000;
const lowestBit = (mask: number) => 31 - Math.clz32(mask & -mask);

export class Guess {
  seen = 0;
  /** Conventions every value fits (0: some value is no number). */
  fits = ALL_FORMATS;
  /** Conventions under which every value is an int. */
  ints = ALL_FORMATS;
  /** Conventions every number-shaped value fits (what a sidecar declaring the column numeric reads by). */
  numericFits = ALL_FORMATS;
  comma = false;
  point = false;
  textChecks = 0;
  date = true;
  datetime = true;
  anyTime = false;
  dmy = true;
  mdy = true;

  observe(text: string): void {
    const t = text.trim();
    if (t === "") return;
    this.seen++;
    // Once the column is text, its number-shaped values only pick the convention a sidecar
    // declaring it numeric reads by: a bounded look is enough.
    if (this.fits !== 0 || (this.numericFits !== 0 && this.textChecks++ < TEXT_COLUMN_CHECKS)) {
      const shape = numberShape(t);
      if (shape === null) this.fits = 0;
      else {
        this.fits &= shape.fits;
        this.ints &= shape.ints;
        this.numericFits &= shape.fits;
        this.comma ||= shape.comma;
        this.point ||= shape.point;
      }
    }
    if (this.date || this.datetime) {
      const d = dateKind(t);
      if (d === null) {
        this.date = this.datetime = false;
      } else {
        if (d.kind === "datetime") {
          this.date = false;
          this.anyTime = true;
        }
        this.dmy &&= d.dmy;
        this.mdy &&= d.mdy;
        if (!this.dmy && !this.mdy) this.date = this.datetime = false;
      }
    }
  }

  /** What the column's values have ruled out so far: it changes only when a value rules out more. */
  state(): number {
    // 8 conventions (NUMBER_FORMATS) per mask: everything fits in 31 bits.
    return (
      this.fits |
      (this.ints << 8) |
      (this.numericFits << 16) |
      (+this.date << 24) |
      (+this.datetime << 25) |
      (+this.anyTime << 26) |
      (+this.dmy << 27) |
      (+this.mdy << 28) |
      (+this.comma << 29) |
      (+this.point << 30)
    );
  }

  /** The column can only be text, and no further value changes what a sidecar declaring it numeric reads by. */
  settled(): boolean {
    return this.fits === 0 && !this.date && !this.datetime && (this.numericFits === 0 || this.textChecks >= TEXT_COLUMN_CHECKS);
  }

  /** The decimal separator this column's values prove on their own, if any. */
  provenDecimal(): "." | "," | null {
    // Month-first slash dates (1/31/2024) are written where a decimal point is (en-US).
    if (this.seen > 0 && (this.date || this.datetime) && this.mdy && !this.dmy) return ".";
    if (this.seen === 0 || this.fits === 0 || !(this.comma || this.point)) return null;
    if ((this.fits & COMMA_FORMATS) === 0) return ".";
    if ((this.fits & POINT_FORMATS) === 0) return ",";
    return null;
  }
}

/** What decides a column's convention besides its own values. */
export interface NumberContext {
  /** The table's default: a decimal comma (`;`/tab CSV) or point. */
  decimalComma: boolean;
  /** The sidecar's `decimalSeparator`: only conventions with it. */
  declared?: "." | ",";
}

/** The convention among `fits` (a NUMBER_FORMATS mask), or null when the values leave a `,` undecided. */
function chooseFormat(fits: number, g: Guess, proven: "." | "," | null, ctx: NumberContext): number | null {
  if (ctx.declared) fits &= ctx.declared === "," ? COMMA_FORMATS : POINT_FORMATS;
  if (fits === 0) return null;
  let side = fits;
  const point = fits & POINT_FORMATS;
  const comma = fits & COMMA_FORMATS;
  if (point && comma) {
    const preferred = ctx.decimalComma ? comma : point;
    if (!g.comma && !g.point)
      side = preferred; // no separator that could be decimal: both read the same
    else if (proven) side = proven === "," ? comma : point;
    // `12,500` or `1.500` and nothing else to go by: the table's default decides
    // (`;`/tab CSV: a decimal comma, so 12.5 and 1500). In a table read with a
    // decimal point, `1.500` is 1.5 as plain numbers read, but `12,500` is left
    // as text: 12500 or 12.5, nothing says which.
    else side = ctx.decimalComma ? comma : g.comma ? 0 : point;
  }
  return side === 0 ? null : lowestBit(side);
}

export function inferTypes(rows: readonly (readonly (string | null)[])[], width: number, context: boolean | NumberContext): Inferred[] {
  const guesses = Array.from({ length: width }, () => new Guess());
  for (const row of rows) {
    for (let i = 0; i < width; i++) {
      const v = row[i];
      if (v !== null && v !== undefined) guesses[i].observe(v);
    }
  }
  return decideTypes(guesses, context);
}

/**
 * The columns' types from what their guesses observed (a sample, or every
 * value of an upload: query/inspect.ts). Decided together: a decimal
 * separator the other columns prove settles an undecided one.
 */
export function decideTypes(guesses: readonly Guess[], context: boolean | NumberContext): Inferred[] {
  const ctx: NumberContext = typeof context === "boolean" ? { decimalComma: context } : context;
  // The file's other columns: a decimal separator they agree on settles the undecided ones.
  const proofs = new Set(guesses.map((g) => g.provenDecimal()).filter((d) => d !== null));
  const proven = proofs.size === 1 ? [...proofs][0] : null;
  const fallback = NUMBER_FORMATS.findIndex((f) => f.decimal === (ctx.declared ?? (ctx.decimalComma ? "," : ".")));
  return guesses.map((g) => {
    const slashOrder: SlashOrder = g.mdy ? "mdy" : "dmy";
    const numeric = g.seen > 0 && g.fits !== 0 ? chooseFormat(g.fits, g, proven, ctx) : null;
    const asDeclared =
      numeric ??
      chooseFormat(g.numericFits, g, proven, { ...ctx, decimalComma: ctx.declared ? ctx.declared === "," : ctx.decimalComma }) ??
      fallback;
    const numberFormat = NUMBER_FORMATS[numeric ?? asDeclared];
    const type: ColumnType =
      g.seen === 0
        ? "string"
        : numeric !== null
          ? (g.ints >> numeric) & 1
            ? "int"
            : "double"
          : g.date && !g.anyTime
            ? "date"
            : g.datetime
              ? "datetime"
              : "string";
    return { type, slashOrder, numberFormat };
  });
}
