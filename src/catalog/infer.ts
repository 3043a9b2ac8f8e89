/**
 * Type inference over a sample of rows. A column gets the narrowest type that
 * every non-empty sample value fits: int ⊂ double, date ⊂ datetime, else
 * string. Empty cells decide nothing; a column with no values is a string.
 */
import { dateKind } from "../values/dates";
import { numericKind } from "../values/numbers";
import type { ColumnType, SlashOrder } from "../model";

export interface Inferred {
  type: ColumnType;
  /** For slash dates: the order every sample value fits (month first if both do). */
  slashOrder: SlashOrder;
}

export class Guess {
  seen = 0;
  int = true;
  double = true;
  date = true;
  datetime = true;
  anyTime = false;
  dmy = true;
  mdy = true;

  observe(text: string, decimalComma: boolean): void {
    const t = text.trim();
    if (t === "") return;
    this.seen++;
    if (this.int || this.double) {
      const k = numericKind(t, decimalComma);
      if (k !== "int") this.int = false;
      if (k === null) this.double = false;
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

  result(): Inferred {
    const slashOrder: SlashOrder = this.mdy ? "mdy" : "dmy";
    if (this.seen === 0) return { type: "string", slashOrder };
    if (this.int) return { type: "int", slashOrder };
    if (this.double) return { type: "double", slashOrder };
    if (this.date && !this.anyTime) return { type: "date", slashOrder };
    if (this.datetime) return { type: "datetime", slashOrder };
    return { type: "string", slashOrder };
  }
}

export function inferTypes(rows: readonly (readonly (string | null)[])[], width: number, decimalComma: boolean): Inferred[] {
  const guesses = Array.from({ length: width }, () => new Guess());
  for (const row of rows) {
    for (let i = 0; i < width; i++) {
      const v = row[i];
      if (v !== null && v !== undefined) guesses[i].observe(v, decimalComma);
    }
  }
  return guesses.map((g) => g.result());
}
