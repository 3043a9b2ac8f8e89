// A newcomer's first hour, checked in Node: the Node minimum, the README's
// requirements and length, what moved from it to docs/, `npm run setup -- --dry-run` without a reachable Worker, the
// upload CLI's messages, and no citation of a file the tree does not have.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error a plain .mjs script without types
import { nodeProblem } from "../../scripts/check-node.mjs";
import { LocalPortal } from "../../scripts/local-portal/portal";

const root = join(import.meta.dirname, "..", "..");
const run = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number; out: string }>((resolve) =>
    execFile(cmd, args, { cwd: root, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    ),
  );
const tsx = (script: string, args: string[], env?: Record<string, string>) =>
  run(join(root, "node_modules", ".bin", "tsx"), [join(root, "scripts", script), ...args], env);
const readme = readFileSync(join(root, "README.md"), "utf8");
const doc = (name: string) => readFileSync(join(root, "docs", name), "utf8");

describe("Node version", () => {
  it("states and enforces 20.19 as the minimum", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.engines.node).toBe(">=20.19");
    expect(readFileSync(join(root, ".npmrc"), "utf8")).toMatch(/^engine-strict=true$/m);
    expect(readFileSync(join(root, ".ci", "run"), "utf8")).toContain("node scripts/check-node.mjs");
    expect(nodeProblem("20.19.0")).toBeNull();
    expect(nodeProblem("v22.1.0")).toBeNull();
    expect(nodeProblem("v20.10.0")).toMatch(/^Node ≥ 20\.19 needed, you have 20\.10\.0\./);
    expect(nodeProblem("18.20.4")).toMatch(/^Node ≥ 20\.19 needed, you have 18\.20\.4\./);
  });

  it.each(["dev.mjs", "setup.ts", "upload.ts"])("scripts/%s checks it before anything can crash", async (script) => {
    const text = readFileSync(join(root, "scripts", script), "utf8");
    const firstImport = text.split("\n").find((l) => l.startsWith("import "));
    expect(firstImport).toMatch(/^import "\.\/check-node\.mjs";/);
  });

  it("prints the message and exits 1 on an older Node", async () => {
    const r = await run(process.execPath, [join(root, "scripts", "check-node.mjs")], { CHECK_NODE_VERSION: "20.10.0" });
    expect(r).toEqual({
      code: 1,
      out: "Node ≥ 20.19 needed, you have 20.10.0. Install a newer Node (e.g. from https://nodejs.org or with nvm) and run npm install again.\n",
    });
    const setup = await tsx("setup.ts", ["--help"], { CHECK_NODE_VERSION: "20.10.0" });
    expect(setup.code).toBe(1);
    expect(setup.out).toContain("Node ≥ 20.19 needed, you have 20.10.0");
  });
});

describe("README", () => {
  it("starts with the requirements: plan and CPU, R2, Node, php-cli", () => {
    const start = readme.indexOf("## Requirements");
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThan(readme.indexOf("## Quick start"));
    const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
    for (const s of ["Free", "10 ms", "Paid", "/check", "/table_list", "R2", "dashboard", "wrangler r2 bucket create", "20.19", "php-cli"])
      expect(section).toContain(s);
    expect(section).toMatch(/1,000,000 rows/); // CPU figures from bench/RESULTS.md
  });

  it("is at most 300 lines: reference and explanation live in docs/", () => {
    expect(readme.trimEnd().split("\n").length).toBeLessThanOrEqual(300);
  });

  it("docs/ documents PORT, INSPECTOR_PORT, dateColumn, money and the listing of empty files", () => {
    for (const s of ["`PORT`", "`INSPECTOR_PORT`", "--inspector-port"]) expect(doc("local.md")).toContain(s);
    for (const s of ['{ "dateColumn": "paid_at" }', "GET /files/<key>", "Empty objects are not listed"])
      expect(doc("guide.md")).toContain(s);
    for (const s of ["`dateColumn`", "synonym of `double`"]) expect(doc("formats.md")).toContain(s);
  });

  it("cites no file the tree does not have", () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
    const citing = [...files(join(root, "src")), ...files(join(root, "test")), ...files(join(root, "scripts"))].filter(
      (f) => !f.endsWith("newcomer.test.ts") && readFileSync(f, "utf8").includes("PROTOCOL.md"),
    );
    expect(citing).toEqual([]);
  });
});

describe("npm run setup -- --dry-run without a reachable Worker", () => {
  let portal: LocalPortal;
  beforeAll(async () => {
    portal = new LocalPortal();
    await portal.start();
  });
  afterAll(() => portal.stop());
  const args = () => [
    "--portal",
    portal.origin,
    "--access-token",
    "good-access",
    "--worker-url",
    "http://127.0.0.1:9",
    "--token",
    "secret-token",
    "--dry-run",
  ];

  it("prints the plan from sample-data/, saying so", async () => {
    const r = await tsx("setup.ts", args());
    expect(r.code).toBe(0);
    expect(r.out).toContain("note: the Worker at http://127.0.0.1:9 is not reachable");
    expect(r.out).toContain("The plan below describes the local files in sample-data/ with the Worker's own code instead");
    for (const t of ["events", "products", "sales", "t_1c_realizatsiya"])
      expect(r.out).toMatch(new RegExp(`table ${t}\\s+would create: \\d+ fields`));
    expect(r.out).not.toContain("secret-token");
    expect(portal.connectors).toEqual([]);
  });

  it("describes a given --data-dir, with sidecars, leaving empty files out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dry-run-"));
    mkdirSync(join(dir, "1c"));
    writeFileSync(join(dir, "1c", "one.csv"), "Сумма\n5\n");
    writeFileSync(join(dir, "1c", "one.csv.schema.json"), JSON.stringify({ columns: { Сумма: { type: "money" } } }));
    writeFileSync(join(dir, "empty.csv"), "");
    writeFileSync(join(dir, "notes.txt"), "not a table");
    const r = await tsx("setup.ts", [...args(), "--data-dir", dir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/table t_1c_one\s+would create: 1 field\n/);
    expect(r.out).not.toContain("empty");
  });

  it("still fails a real run when the Worker is not reachable", async () => {
    const r = await tsx(
      "setup.ts",
      args().filter((a) => a !== "--dry-run"),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain("is not reachable");
  });
});

describe("npm run upload messages", () => {
  it("names the table without a clash note when there is no clash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "upload-msg-"));
    writeFileSync(join(dir, "sales.csv"), "id,amount\n1,2.5\n");
    const r = await tsx("upload.ts", [join(dir, "sales.csv"), "--check"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("table sales, 1 row\n");
    expect(r.out).not.toContain("unless another file");
  });
});
