// npm run upload checks with the Worker's own code, so it refuses a CSV that
// looks cut off (a short last record with no line break) like PUT /files does
// (test/uploads/races.test.ts).
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "upload-cut-"));
const cli = (args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(join(root, "node_modules", ".bin", "tsx"), [join(root, "scripts", "upload.ts"), ...args], { cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    ),
  );

it("npm run upload refuses a CSV cut at a field boundary, and accepts it ended by a line break", async () => {
  const cut = join(dir, "cut.csv");
  writeFileSync(cut, "a,b,c\n1,2,3\n4,5");
  const refused = await cli([cut, "--check"]);
  expect(refused.code).toBe(1);
  expect(refused.out).toContain("CSV record 3 (the header is record 1), the last one, has 2 of the header's 3 fields and no line break after it: the file looks cut off");
  const ended = join(dir, "ended.csv");
  writeFileSync(ended, "a,b,c\n1,2,3\n4,5\n");
  const accepted = await cli([ended, "--check"]);
  expect(accepted.code).toBe(0);
  expect(accepted.out).toContain("2 rows");
});
