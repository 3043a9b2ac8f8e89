// npm run upload --check on workbooks: local files get the random access R2 gives the Worker.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const corpus = (name: string) => join(root, "test", "fixtures", "exports", name);
const cli = (args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(
      join(root, "node_modules", ".bin", "tsx"),
      [join(root, "scripts", "upload.ts"), ...args],
      { cwd: root },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    ),
  );

describe("npm run upload (check only) of workbooks", () => {
  it("describes and checks an .xlsx as the Worker will serve it", async () => {
    const r = await cli([corpus("openpyxl-1904.xlsx"), "--check"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("table openpyxl_1904, 3 rows");
    expect(r.out).toMatch(/DATE\s+date\s+Date/);
    expect(r.out).toMatch(/POSTED_AT\s+datetime\s+Posted at/);
    expect(r.out).toMatch(/ITEMS\s+int\s+Items/);
    expect(r.out).toContain("nothing uploaded");
  });

  it("refuses an .xls with the conversion hint", async () => {
    const r = await cli([corpus("libreoffice-sales.xls"), "--check"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'error: "libreoffice-sales.xls": this is an Excel 97-2003 binary workbook (OLE2/BIFF8); save it as .xlsx (Excel Workbook) or .csv and upload that.',
    );
  });
});
