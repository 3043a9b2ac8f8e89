// Encodings as real exports come (docs/design/xlsx-and-exports.md §7):
// the corpus by upload (PUT /files, over the whole file) and by a direct R2 put
// (over the first bytes), UTF-16 by BOM, the late-cp1251 file whose first MiB
// is ASCII, and the detector on random text in each encoding (fast-check).
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { CharsetEvidence, DETECTED_SINGLE_BYTE, type DetectedSingleByte, detectCharset, detectSingleByte } from "../../src/values/charset";
import { lateCp1251Bytes } from "../fixtures/exports/late-cp1251";
import { call, clearBucket, errorOf, post, put, table } from "../helpers";

const AUTH = { authorization: "Bearer upload-token" };
const upload = (key: string, body: Uint8Array | string) =>
  call(new Request(`https://c.test/files/${key}`, { method: "PUT", body, headers: AUTH }));
const rows = async (code: string) => table(await post("/data", { table: code }));

async function fixture(name: string): Promise<Uint8Array> {
  const res = await fetch(`${env.HELPER_ORIGIN}/exports/${name}`);
  if (!res.ok) throw new Error(`fixture ${name}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Bytes of `text` in a single-byte encoding (the reverse of its TextDecoder). */
function encode(text: string, encoding: string): Uint8Array {
  const decoder = new TextDecoder(encoding);
  const map = new Map<string, number>();
  for (let b = 255; b >= 0; b--) map.set(decoder.decode(Uint8Array.of(b)), b);
  return Uint8Array.from(
    [...text].map((ch) => {
      const b = map.get(ch);
      if (b === undefined) throw new Error(`no ${encoding} byte for ${ch}`);
      return b;
    }),
  );
}

function utf16(text: string, order: "le" | "be"): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2);
  out.set(order === "le" ? [0xff, 0xfe] : [0xfe, 0xff]);
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    out[2 + 2 * i + (order === "le" ? 0 : 1)] = u & 0xff;
    out[2 + 2 * i + (order === "le" ? 1 : 0)] = u >> 8;
  }
  return out;
}

beforeEach(clearBucket);

/** The corpus: per file, cells that must read exactly so, and the encoding an upload reports. */
const CORPUS: { file: string; code: string; encoding: string; guessed: boolean; cells: string[] }[] = [
  {
    file: "1c-sales-report.csv",
    code: "t_1c_sales_report",
    encoding: "windows-1251",
    guessed: false,
    cells: ["Стул офисный", "Стол письменный"],
  },
  { file: "excel-ru-cp1251.csv", code: "excel_ru_cp1251", encoding: "windows-1251", guessed: false, cells: [] },
  // 19 non-ASCII bytes: thin evidence, so the answer says it was a guess (and right).
  {
    file: "excel-de-cp1252.csv",
    code: "excel_de_cp1252",
    encoding: "windows-1252",
    guessed: true,
    cells: ["Bürostuhl", "Aktenschrank groß", "Maßband, 5 m"],
  },
  { file: "excel-en-utf8.csv", code: "excel_en_utf8", encoding: "utf-8", guessed: false, cells: [] },
  { file: "excel-ru-utf8.csv", code: "excel_ru_utf8", encoding: "utf-8", guessed: false, cells: [] },
  { file: "google-sheets.csv", code: "google_sheets", encoding: "utf-8", guessed: false, cells: [] },
];

describe("the corpus's encodings", () => {
  it.each(CORPUS)("$file by upload: encoding reported and every cell decoded", async ({ file, code, encoding, guessed, cells }) => {
    const bytes = await fixture(file);
    const res = await upload(file, bytes);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { encoding: { name: string; guessed: boolean } };
    expect(body.encoding).toMatchObject({ name: encoding, guessed });
    const got = (await rows(code)).flat();
    for (const c of cells) expect(got).toContain(c);
    // Nothing was read as another encoding: no replacement characters, no cp1251 misreads of Latin letters.
    expect(got.filter((v) => typeof v === "string" && /[\uFFFDЂ]|[ьЯ](?=[a-z])/.test(v))).toEqual([]);
  });

  it.each(CORPUS)("$file put straight into R2: the same cells from its first bytes", async ({ file, code, cells }) => {
    await put(file, await fixture(file));
    const got = (await rows(code)).flat();
    for (const c of cells) expect(got).toContain(c);
  });

  it("reads the cp1251 corpus's Cyrillic header names", async () => {
    await put("excel-ru-cp1251.csv", await fixture("excel-ru-cp1251.csv"));
    const names = ((await (await post("/table_description", { table: "excel_ru_cp1251" })).json()) as { name: string }[]).map(
      (c) => c.name,
    );
    expect(names[0]).toBe("Товар");
  });
});

describe("UTF-16 with a BOM", () => {
  it.each(["le", "be"] as const)("UTF-16%s is decoded, by upload and by a direct put", async (order) => {
    const text = "id;name;amount\r\n1;Bürostuhl;1,5\r\n2;Стол;2\r\n";
    const res = await upload("u16.csv", utf16(text, order));
    expect(res.status).toBe(201);
    expect(((await res.json()) as { encoding: unknown }).encoding).toEqual({ name: `utf-16${order}`, guessed: false, how: "bom" });
    const expected = [
      ["ID", "NAME", "AMOUNT"],
      [1, "Bürostuhl", 1.5],
      [2, "Стол", 2],
    ];
    expect(await rows("u16")).toEqual(expected);
    await clearBucket();
    await put("u16.csv", utf16(text, order));
    expect(await rows("u16")).toEqual(expected);
  });
});

describe("late-cp1251: the first MiB is ASCII, then Windows-1251", () => {
  const check = (got: unknown[][]) => {
    expect(got.length).toBe(1 + 62_335);
    expect(got[0]).toEqual(["ID", "CITY", "AMOUNT"]);
    expect(got[1]).toEqual([1, "Kazan", 1.5]);
    expect(got[62_334]).toEqual([62_334, "Kazan", 1.5]);
    expect(got[62_335]).toEqual([62_335, "Москва", 2.25]);
  };

  it("is accepted by upload, decided over the whole file, with a note that the encoding was guessed", async () => {
    const res = await upload("late-cp1251.csv", lateCp1251Bytes());
    const body = (await res.json()) as { rows: number; encoding: unknown; notes: string[] };
    expect(res.status).toBe(201);
    expect(body.rows).toBe(62_335);
    expect(body.encoding).toEqual({ name: "windows-1251", guessed: true, how: "guessed", alternative: "koi8-r" });
    expect(body.notes).toEqual([
      expect.stringMatching(
        /^The encoding was guessed as windows-1251 from little evidence .*late-cp1251\.csv\.schema\.json with \{"encoding": "<the right one>"\}\.$/,
      ),
    ]);
    check(await rows("late_cp1251"));
  });

  it("is served whole when put straight into R2: the ASCII prefix kept the decision open (no !ERROR)", async () => {
    await put("late-cp1251.csv", lateCp1251Bytes());
    const res = await post("/data", { table: "late_cp1251" });
    const text = await res.text();
    expect(text).not.toContain("!ERROR");
    check(JSON.parse(text));
    // The decision holds for the next read of the same version.
    check(await rows("late_cp1251"));
  });

  it("still refuses UTF-8 with a bad byte after its first MiB (a multi-byte character came before it)", async () => {
    const enc = new TextEncoder();
    const head = enc.encode(`id;city\r\n${"1;Kazan\r\n".repeat(120_000)}2;Казань\r\n`);
    const bytes = new Uint8Array([...head, ...enc.encode("3;x"), 0xff, 0x0d, 0x0a]);
    const err = await errorOf(await upload("bad.csv", bytes));
    expect(err).toMatchObject({ status: 422, code: "FILE_ENCODING_INVALID" });
    expect(err.message).toContain("is not valid utf-8");
  });
});

describe("an encoding guessed from the first MiB is checked against the whole file", () => {
  it("notes when the whole file clearly reads as another encoding", async () => {
    // 0xE9 alone reads best as cp1252's é ("Café"); the Russian rows after the first MiB are cp1251.
    const head = new TextEncoder().encode(`id;name\r\n1;Caf`);
    const ascii = new TextEncoder().encode(`\r\n${"2;Kazan\r\n".repeat(130_000)}`);
    const russian = encode(
      Array.from({ length: 200 }, (_, i) => `${i};Общество с ограниченной ответственностью Ромашка, склад в Москве\r\n`).join(""),
      "windows-1251",
    );
    const body = (await (await upload("mixed.csv", new Uint8Array([...head, 0xe9, ...ascii, ...russian]))).json()) as {
      encoding: unknown;
      notes: string[];
    };
    expect(body.encoding).toMatchObject({ name: "windows-1252", guessed: true });
    expect(body.notes).toContain(
      'The encoding was guessed as windows-1252 from the first MiB, but the whole file reads as windows-1251: upload a sidecar mixed.csv.schema.json with {"encoding": "windows-1251"}, then the file again.',
    );
  });
});

// ---- the detector on random text (fast-check, fixed seeds) -------------------

const WORDS: Record<string, string[]> = {
  ru: [
    "продажи",
    "отчет",
    "сумма",
    "количество",
    "Москва",
    "Казань",
    "товар",
    "цена",
    "клиент",
    "договор",
    "оплата",
    "январь",
    "склад",
    "поставщик",
    "остаток",
    "номенклатура",
    "итого",
    "менеджер",
    "регион",
    "доставка",
    "Стул",
    "офисный",
    "письменный",
    "Ромашка",
    "общество",
    "счёт",
  ],
  de: [
    "Bürostuhl",
    "Größe",
    "Straße",
    "Müller",
    "Käse",
    "Übersicht",
    "Menge",
    "Preis",
    "Rechnung",
    "Lieferung",
    "Gebühr",
    "Bestellung",
    "Köln",
    "München",
    "Düsseldorf",
    "Schließfach",
    "Maßband",
    "für",
    "Büro",
    "Kühlschrank",
    "groß",
    "Tür",
    "schön",
  ],
  fr: [
    "société",
    "réunion",
    "numéro",
    "année",
    "prix",
    "crème",
    "français",
    "élève",
    "Genève",
    "où",
    "déjà",
    "février",
    "août",
    "reçu",
    "hôtel",
    "théâtre",
  ],
  cs: [
    "číslo",
    "částka",
    "město",
    "zákazník",
    "objednávka",
    "dodávka",
    "množství",
    "cena",
    "Plzeň",
    "Brno",
    "účet",
    "řádek",
    "žádost",
    "přehled",
    "měsíc",
    "dlužník",
    "příjem",
    "výdaj",
    "sklad",
    "zboží",
  ],
  pl: [
    "zamówienie",
    "ilość",
    "kwota",
    "Łódź",
    "Kraków",
    "Gdańsk",
    "dostawa",
    "faktura",
    "płatność",
    "województwo",
    "sprzedaż",
    "miesiąc",
    "klient",
    "zysk",
    "średnia",
    "wartość",
  ],
};

const CASES: [string, DetectedSingleByte][] = [
  ["ru", "windows-1251"],
  ["ru", "koi8-r"],
  ["ru", "ibm866"],
  ["de", "windows-1252"],
  ["fr", "windows-1252"],
  ["cs", "windows-1250"],
  ["pl", "windows-1250"],
];

/**
 * A CSV of 15–40 records whose text column holds 2–4 random words of `lang`.
 * "Enough evidence": at least 8 different words, none of them more than a
 * fifth of all (text that is mostly one word — `číslo`, which reads as well
 * in cp1252 as `èíslo` — tells no detector its language).
 */
const csvOf = (lang: string) =>
  fc
    .array(fc.tuple(fc.nat(99_999), fc.array(fc.constantFrom(...WORDS[lang]), { minLength: 2, maxLength: 4 }), fc.nat(9_999)), {
      minLength: 15,
      maxLength: 40,
    })
    .filter((recs) => {
      const all = recs.flatMap(([, words]) => words);
      const counts = new Map<string, number>();
      for (const w of all) counts.set(w, (counts.get(w) ?? 0) + 1);
      return counts.size >= 8 && Math.max(...counts.values()) <= all.length / 5;
    })
    .map((recs) => ["id;text;amount", ...recs.map(([id, words, n]) => `${id};${words.join(" ")};${n},50`)].join("\r\n") + "\r\n");

describe("the detector (fast-check, fixed seeds)", () => {
  it.each(CASES)("%s text in %s is detected as such once there is enough of it", (lang, encoding) => {
    fc.assert(
      fc.property(csvOf(lang), (text) => {
        const bytes = encode(text, encoding);
        const got = detectCharset(bytes, true);
        expect(got.encoding).toBe(encoding);
      }),
      { seed: 12, numRuns: 60 },
    );
  });

  it("is not swayed by no-break spaces in numbers (cp1251's 0xA0 is IBM866's а)", () => {
    const lines = ["Дата;Сумма", ...Array.from({ length: 3000 }, (_, i) => `31.01.2024;${i}\u00a0234,50`)];
    expect(detectCharset(encode(lines.join("\r\n"), "windows-1251"), true)).toMatchObject({ encoding: "windows-1251" });
  });

  it("says UTF-8 for UTF-8 text, ASCII for plain ASCII, and follows a BOM", () => {
    fc.assert(
      fc.property(csvOf("ru"), csvOf("de"), (ru, de) => {
        expect(detectCharset(new TextEncoder().encode(ru + de), true)).toEqual({ encoding: "utf-8", how: "utf-8" });
        expect(detectCharset(utf16(ru, "le"), true)).toMatchObject({ encoding: "utf-16le", how: "bom" });
      }),
      { seed: 7, numRuns: 30 },
    );
    expect(detectCharset(new TextEncoder().encode("a;b\r\n1;2\r\n"), true)).toEqual({ encoding: "utf-8", how: "ascii" });
  });

  it("collects the same evidence however the bytes are cut into chunks", () => {
    fc.assert(
      fc.property(csvOf("ru"), fc.array(fc.nat(400), { maxLength: 30 }), (text, cuts) => {
        const bytes = encode(`plain ascii line\r\n${text}more ascii\n`, "windows-1251");
        const whole = new CharsetEvidence();
        whole.push(bytes);
        const split = new CharsetEvidence();
        let at = 0;
        for (const n of cuts) split.push(bytes.subarray(at, (at = Math.min(bytes.length, at + n))));
        split.push(bytes.subarray(at));
        expect(split.evidence()).toEqual(whole.evidence());
        expect(split.result(true)).toEqual(whole.result(true));
        // Only the lines with bytes >= 0x80 are kept.
        expect(new TextDecoder("windows-1251").decode(whole.evidence())).not.toContain("ascii");
      }),
      { seed: 5, numRuns: 100 },
    );
  });

  it("only ever answers an encoding it serves, whatever the bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), (bytes) => {
        const got = detectSingleByte(bytes);
        expect(DETECTED_SINGLE_BYTE).toContain(got.encoding);
        expect(["detected", "guessed"]).toContain(got.how);
      }),
      { seed: 3, numRuns: 200 },
    );
  });
});
