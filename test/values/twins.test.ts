// The byte forms of text functions, each held to its text form: the date and
// number recognizers (values/dates.ts, values/numbers.ts), the cell writers
// (query/cells.ts: a byte record's cell → the JSON its text writer answers),
// and the byte records' totals-label check (formats/byte-rows.ts plainlyData
// → never true for a row formats/report-layout.ts takes for totals).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { plainlyData } from "../../src/formats/byte-rows";
import { isTotalsRow, TOTAL_LABELS } from "../../src/formats/report-layout";
import type { Column, ColumnType, Description } from "../../src/model";
import { byteWritersFor, cellWritersFor } from "../../src/query/cells";
import { ByteBuilder } from "../../src/streams/byte-builder";
import {
  DATE_DOTTED,
  DATE_INVALID,
  DATE_ISO,
  DATE_UNDECIDED,
  fastDate,
  fastDateAt,
  fastDateTime,
  fastDateTimeAt,
} from "../../src/values/dates";
import { jsonNumberAsIs, jsonNumberAsIsAt } from "../../src/values/numbers";
import { oneCellRecord } from "../records";

const utf8 = new TextEncoder();
const RUNS = { numRuns: 3000, seed: 2323 };

const p = (n: number, w: number) => String(n).padStart(w, "0");
/** Strings shaped like dates and times, valid or nearly (month 13, day 31 in a short month, hour 24, a letter for a digit). */
const dateLike = fc
  .tuple(
    fc.integer({ min: 0, max: 10_000 }),
    fc.integer({ min: 0, max: 13 }),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 25 }),
    fc.integer({ min: 0, max: 61 }),
    fc.constantFrom("iso", "dots", "slashes"),
    fc.boolean(),
  )
  .map(([y, m, d, hh, mm, form, time]) => {
    const date =
      form === "iso"
        ? `${p(y, 4)}-${p(m, 2)}-${p(d, 2)}`
        : form === "dots"
          ? `${p(d, 2)}.${p(m, 2)}.${p(y, 4)}`
          : `${p(d, 2)}/${p(m, 2)}/${p(y, 4)}`;
    return time ? `${date} ${p(hh, 2)}:${p(mm, 2)}:${p(mm, 2)}` : date;
  });
const noisy = fc.string({ unit: fc.constantFrom(...'0123456789-.: /aЖé"'.split("")), minLength: 0, maxLength: 21 });
/** A date-shaped string with one character replaced. */
const nearly = fc
  .tuple(dateLike, fc.nat(), fc.constantFrom(..."0-.: xé".split("")))
  .map(([s, i, c]) => s.slice(0, i % s.length) + c + s.slice((i % s.length) + 1));
const dateText = fc.oneof(dateLike, noisy, nearly);

/** What a byte recognizer's code says, in its text twin's terms. */
function asText(code: number, bytes: string, time: boolean): string | null | undefined {
  if (code === DATE_UNDECIDED) return undefined;
  if (code === DATE_INVALID) return null;
  const date = code === DATE_ISO ? bytes.slice(0, 10) : `${bytes.slice(6, 10)}-${bytes.slice(3, 5)}-${bytes.slice(0, 2)}`;
  expect([DATE_ISO, DATE_DOTTED]).toContain(code);
  return time ? `${date}${bytes.slice(10)}` : date;
}

describe("twins: values/dates.ts fastDate and fastDateTime on text and on bytes", () => {
  it("fastDateAt says what fastDate says, for any 10 bytes", () => {
    fc.assert(
      fc.property(dateText, (t) => {
        const b = utf8.encode(t);
        if (b.length !== 10) return;
        expect(asText(fastDateAt(b, 0), t, false)).toBe(t.length === 10 ? fastDate(t) : undefined);
      }),
      RUNS,
    );
  });

  it("fastDateTimeAt says what fastDateTime says, for any 19 bytes", () => {
    fc.assert(
      fc.property(dateText, (t) => {
        const b = utf8.encode(t);
        if (b.length !== 19) return;
        expect(asText(fastDateTimeAt(b, 0), t, true)).toBe(t.length === 19 ? fastDateTime(t) : undefined);
      }),
      RUNS,
    );
  });
});

const numberText = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."0123456789-.,e+ é".split("")), minLength: 0, maxLength: 18 }),
  fc.double({ noNaN: true }).map(String),
  fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }).map(String),
  fc.tuple(fc.integer(), fc.nat()).map(([a, b]) => `${a}.${b}`),
);

describe("twins: values/numbers.ts jsonNumberAsIs on text and on bytes", () => {
  it("jsonNumberAsIsAt says what jsonNumberAsIs says, with and without fractions", () => {
    fc.assert(
      fc.property(numberText, fc.boolean(), (t, fraction) => {
        const b = utf8.encode(`x${t}y`);
        expect(jsonNumberAsIsAt(b, 1, b.length - 1, fraction)).toBe(jsonNumberAsIs(t, fraction));
      }),
      RUNS,
    );
  });
});

function oneColumn(type: ColumnType, slashOrder: "dmy" | "mdy"): Description {
  const column: Column = { code: "V", name: "v", type, slashOrder };
  return { reader: null as never, keys: ["v"], header: ["v"], columns: [column], decimalComma: false };
}

const written = (write: (out: ByteBuilder) => void) => {
  const out = new ByteBuilder(64);
  write(out);
  return new TextDecoder().decode(out.take());
};

describe("twins: query/cells.ts byte writers answer what the text writers answer", () => {
  const cases: [ColumnType, fc.Arbitrary<string>][] = [
    ["date", dateText],
    ["datetime", dateText],
    // Well-formed text only: a file's bytes decode to no lone surrogate.
    [
      "string",
      fc
        .oneof(
          fc.string(),
          fc.string({ unit: "binary" }),
          fc.string({ unit: fc.constantFrom('"', "\\", "\n", "a", "\u2028", "\ud83d\ude00", "Ж") }),
        )
        .filter((t) => new TextDecoder().decode(utf8.encode(t)) === t),
    ],
  ];
  for (const [type, text] of cases) {
    for (const order of ["dmy", "mdy"] as const) {
      it(`${type} (${order})`, () => {
        const d = oneColumn(type, order);
        const textWriter = cellWritersFor(d)[0];
        const byteWriter = byteWritersFor(d, [textWriter])[0];
        fc.assert(
          fc.property(text, (t) => {
            const rec = oneCellRecord(t);
            expect(written((out) => byteWriter(out, rec, 0))).toBe(written((out) => textWriter(out, t)));
          }),
          { ...RUNS, numRuns: 1500 },
        );
      });
    }
  }
});

describe("twins: formats/byte-rows.ts plainlyData never lets a totals row by", () => {
  // Labels in any case, with blanks before them and anything after.
  const casing = (s: string, flips: boolean[]) => [...s].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c)).join("");
  const labelled = fc
    .tuple(
      fc.constantFrom(...TOTAL_LABELS),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
      fc.constantFrom("", " ", "\u00a0", "\t", "  "),
      fc.constantFrom("", ":", " по складу", " 2024", "x"),
    )
    .map(([label, flips, before, after]) => `${before}${casing(label, flips)}${after}`);
  const first = fc.oneof(
    labelled,
    fc.string({ maxLength: 8 }),
    fc.string({ unit: fc.constantFrom(..."ИиВвTtGgSsRrоoaAuUeE ".split("")), maxLength: 8 }),
  );

  it("is false for every first cell layout.ts reads as a totals label", () => {
    let totals = 0;
    fc.assert(
      fc.property(first, (cell) => {
        if (!isTotalsRow([cell, "1"], [false, true])) return;
        totals++;
        expect(plainlyData(oneCellRecord(cell), 0)).toBe(false);
      }),
      { ...RUNS, numRuns: 5000 },
    );
    expect(totals).toBeGreaterThan(500);
  });

  it("lets the usual data rows by", () => {
    for (const cell of ["1", "Moscow", "ООО Ромашка", "Tomsk", "Грузия", "2024-01-01", "Acme"])
      expect(plainlyData(oneCellRecord(cell), 0)).toBe(!/^(To|Gr)/.test(cell));
    for (const cell of ["", " x", "\u00a0x", "Итого", "всего", "TOTAL", "summe", "Razem"])
      expect(plainlyData(oneCellRecord(cell), 0)).toBe(false);
  });
});
