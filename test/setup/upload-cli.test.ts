// npm run upload: the local check uses the Worker's own parsing and inference.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cp1251 } from "../cp1251";

const root = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "upload-cli-"));
const cli = (args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(
      join(root, "node_modules", ".bin", "tsx"),
      [join(root, "scripts", "upload.ts"), ...args],
      { cwd: root },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    ),
  );

describe("npm run upload (check only)", () => {
  it("shows the table a 1C export becomes: encoding, types from every value, widened columns", async () => {
    const path = join(dir, "Продажи.csv");
    // The odd value comes after the 10,000-row sample: the whole pass widens the column and says why.
    const rows = Array.from({ length: 10_050 }, (_, i) => `31.01.2024;${i === 10_040 ? "н/д" : "1\u00a0234,50"};00${i % 10}`);
    writeFileSync(path, cp1251(`Дата;Сумма;Артикул\r\n${rows.join("\r\n")}\r\n`));
    const r = await cli([path, "--key", "1c/prodazhi.csv", "--check"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("table t_1c_prodazhi");
    expect(r.out).toMatch(/DATA\s+date\s+Дата/);
    expect(r.out).toMatch(/SUMMA\s+string\s+Сумма/);
    expect(r.out).toMatch(/ARTIKUL\s+string\s+Артикул/);
    expect(r.out).toContain("10050 rows");
    expect(r.out).toContain(
      'note: SUMMA is string: its first rows are double, but record 10042 ("н/д") is not. Declare its type in the sidecar if double was meant.',
    );
    // The only Cyrillic letters are in the header and "н/д": few, so the encoding is a guess (and right).
    expect(r.out).toContain("encoding windows-1251 (guessed from little evidence; next best windows-1252)");
    expect(r.out).toMatch(/DATA\s+date\s+Дата\s+e\.g\. "31\.01\.2024"/);
    expect(r.out).toContain("nothing uploaded");
  });

  it("refuses a malformed file and a hostile key, uploading nothing", async () => {
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, 'a,b\n1,"open\n');
    const r = await cli([bad]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("CSV_MALFORMED");
    expect(r.out).toContain("nothing was uploaded");
    const hostile = await cli([bad, "--key", "../etc/x.csv"]);
    expect(hostile.code).toBe(1);
    expect(hostile.out).toContain("not allowed");
  });

  // The same check as PUT /files (test/uploads/integrity.test.ts): a CSV whose last record is short and unended looks cut off.
  it("npm run upload refuses a CSV cut at a field boundary, and accepts it ended by a line break", async () => {
    const cut = join(dir, "cut.csv");
    writeFileSync(cut, "a,b,c\n1,2,3\n4,5");
    const refused = await cli([cut, "--check"]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(
      "CSV record 3 (the header is record 1), the last one, has 2 of the header's 3 fields and no line break after it: the file looks cut off",
    );
    const ended = join(dir, "ended.csv");
    writeFileSync(ended, "a,b,c\n1,2,3\n4,5\n");
    const accepted = await cli([ended, "--check"]);
    expect(accepted.code).toBe(0);
    expect(accepted.out).toContain("2 rows");
  });
});
