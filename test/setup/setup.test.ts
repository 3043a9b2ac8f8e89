// The setup (registration) against a fake portal that calls back into the
// real Worker (Miniflare) for urlCheck, as a portal does on source.add.
import { execFile } from "node:child_process";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LocalPortal, type LocalPortalOptions } from "../../scripts/local-portal/portal";
import type { Generation } from "../../scripts/local-portal/rest";
import { DEFAULT_LOGO, type RegisterOptions, register, type Summary } from "../../src/register/register";
import { Portal } from "../../src/register/rest-client";
import { httpWorker } from "../../src/register/worker-http";
import { startWorker } from "./worker";

const TOKEN = "setup-token";
let mf: Miniflare;
let workerUrl: string;
let bucket: R2Bucket;
let portal: LocalPortal | undefined;

beforeAll(async () => {
  ({ mf, url: workerUrl, bucket } = await startWorker({ CONNECTOR_TOKEN: TOKEN }));
});
afterAll(async () => {
  await mf.dispose();
});
afterEach(async () => {
  await portal?.stop();
  portal = undefined;
  const listed = await bucket.list();
  for (const o of listed.objects) await bucket.delete(o.key);
});

async function freshPortalOf(options: LocalPortalOptions = {}): Promise<LocalPortal> {
  portal = new LocalPortal(options);
  await portal.start();
  await bucket.put("sales.csv", "id,day,amount\n1,31.01.2024,10.5\n");
  await bucket.put("1c/stock.csv", "Артикул;Остаток\n007;5\n");
  return portal;
}

function run(p: LocalPortal, over: Partial<RegisterOptions> = {}, accessToken = "good-access"): Promise<Summary> {
  const client = new Portal({
    auth: {
      kind: "oauth",
      portal: p.origin,
      accessToken,
      refreshToken: "good-refresh",
      clientId: "app",
      clientSecret: "secret",
      oauthServer: p.origin,
    },
    retryBaseMs: 1,
  });
  const opts: RegisterOptions = { workerUrl, token: TOKEN, title: "Files", logo: DEFAULT_LOGO, dateFormat: "DD.MM.YYYY", ...over };
  return register(client, httpWorker(workerUrl, opts.token), opts);
}

const outcomes = (s: Summary) => s.lines.map((l) => `${l.object}: ${l.outcome}`);

const GENERATIONS: Generation[] = ["current", "older"];

describe.each(GENERATIONS)("setup on a %s portal", (generation) => {
  const freshPortal = (options: LocalPortalOptions = {}) => freshPortalOf({ generation, ...options });

  it("registers connector, source and one dataset per table on a fresh portal", async () => {
    const p = await freshPortal();
    const s = await run(p);
    expect(outcomes(s)).toEqual(["connector: created", "source: created", "table sales: created", "table t_1c_stock: created"]);
    expect(s.failed).toBe(false);
    expect(p.connectors[0]).toMatchObject({
      title: "Files",
      urlCheck: `${workerUrl}/check`,
      urlData: `${workerUrl}/data`,
      settings: [
        expect.objectContaining({ code: "token", type: "STRING" }),
        expect.objectContaining({ code: "date_format", type: "STRING" }),
      ],
    });
    // supportMapping and sourceCode only where connector.fields lists them.
    expect(p.connectors[0].supportMapping).toBe(generation === "current" ? true : undefined);
    expect(p.connectors[0].sourceCode).toBe(generation === "current" ? "files_connector" : undefined);
    expect(p.sources[0]).toMatchObject({ active: true, connectorId: p.connectors[0].id });
    expect(p.sources[0].settings.map((x: { code: string; value: string }) => [x.code, x.value])).toEqual([
      ["token", TOKEN],
      ["date_format", "DD.MM.YYYY"],
    ]);
    expect(p.calls).toContain(generation === "current" ? "biconnector.table.add" : "biconnector.dataset.add");
    const sales = p.datasets.find((d) => d.name === "sales")!;
    expect(sales.fields.map((f: { name: string; externalCode: string; type: string }) => [f.name, f.externalCode, f.type])).toEqual([
      ["ID", "ID", "int"],
      ["DAY", "DAY", "date"],
      ["AMOUNT", "AMOUNT", "double"],
    ]);
    expect(p.datasets.find((d) => d.name === "t_1c_stock")!.fields.map((f: { name: string }) => f.name)).toEqual(["ARTIKUL", "OSTATOK"]);
  });

  it("changes nothing on a second run and says so", async () => {
    const p = await freshPortal();
    await run(p);
    const writes = () => p.calls.filter((c) => /\.(add|update|delete)$/.test(c)).length;
    const before = writes();
    const s = await run(p);
    expect(outcomes(s)).toEqual(["connector: unchanged", "source: unchanged", "table sales: unchanged", "table t_1c_stock: unchanged"]);
    expect(writes()).toBe(before);
  });

  it("updates a changed source setting with its title, and a changed connector address", async () => {
    const p = await freshPortal();
    await run(p);
    p.sources[0].settings.find((x: { code: string }) => x.code === "date_format").value = "MM/DD/YYYY";
    const s = await run(p);
    expect(s.lines.find((l) => l.object === "source")).toEqual({ object: "source", outcome: "updated", detail: "settings: date_format" });
    expect(p.sources[0]).toMatchObject({ title: "Files", active: true });
    expect(p.sources[0].settings.find((x: { code: string }) => x.code === "date_format").value).toBe("DD.MM.YYYY");
    p.connectors[0].urlData = "https://elsewhere.example/data";
    const again = await run(p);
    expect(again.lines[0]).toEqual({ object: "connector", outcome: "updated", detail: "urlData" });
    expect(p.connectors[0].urlData).toBe(`${workerUrl}/data`);
    expect(outcomes(await run(p)).every((o) => o.endsWith("unchanged"))).toBe(true);
  });

  it("leaves a source switched off in BI Builder off, and says so", async () => {
    const p = await freshPortal();
    await run(p);
    p.sources[0].active = false;
    const writes = p.calls.filter((c) => /\.(add|update|delete)$/.test(c)).length;
    const s = await run(p);
    expect(s.lines.find((l) => l.object === "source")).toEqual({
      object: "source",
      outcome: "unchanged",
      detail: expect.stringContaining("switched off in BI Builder"),
    });
    expect(p.calls.filter((c) => /\.(add|update|delete)$/.test(c)).length).toBe(writes);
  });

  it("reads a module error where this portal puts it and reports it on its line", async () => {
    const p = await freshPortal();
    await run(p);
    // The dataset is gone from the portal between the list and the get: DATASET_NOT_FOUND, in result (current) or top-level (older).
    const get = p.rest.handle.bind(p.rest);
    p.rest.handle = async (method, params, check) => {
      if (/\.(table|dataset)\.get$/.test(method)) p.rest.datasets = p.rest.datasets.filter((d) => d.name !== "sales");
      return get(method, params, check);
    };
    const s = await run(p);
    expect(s.lines.find((l) => l.object === "table sales")).toMatchObject({
      outcome: "failed",
      detail: expect.stringContaining("DATASET_NOT_FOUND"),
    });
    expect(s.failed).toBe(true);
  });

  it("adds a new column to an existing dataset, and removes old ones only with --prune", async () => {
    const p = await freshPortal();
    await run(p);
    await bucket.put("sales.csv", "id,day,manager\n1,31.01.2024,Anna\n");
    const s = await run(p);
    expect(s.lines.find((l) => l.object === "table sales")).toEqual({
      object: "table sales",
      outcome: "updated",
      detail: "added MANAGER",
      // The app page reads the difference from these: AMOUNT is gone from the file, kept without --prune.
      table: "sales",
      changes: { added: ["MANAGER"], removed: ["AMOUNT"], retyped: [] },
    });
    const names = () => p.datasets.find((d) => d.name === "sales")!.fields.map((f: { name: string }) => f.name);
    expect(names()).toEqual(["ID", "DAY", "AMOUNT", "MANAGER"]);
    const pruned = await run(p, { prune: true });
    expect(pruned.lines.find((l) => l.object === "table sales")).toMatchObject({ outcome: "updated", detail: "removed AMOUNT" });
    expect(names()).toEqual(["ID", "DAY", "MANAGER"]);
  });

  it("explains a wrong token instead of a raw error code, and creates no source", async () => {
    const p = await freshPortal();
    // Caught before the portal is touched: the Worker itself refuses the token.
    await expect(run(p, { token: "wrong" })).rejects.toThrow(/^the Worker rejected the token/);
    expect(p.calls).toEqual([]);
    // Caught by the portal: its synchronous /check call on source.add fails.
    const client = new Portal({ auth: { kind: "oauth", portal: p.origin, accessToken: "good-access" }, retryBaseMs: 1 });
    const opts = { workerUrl, token: "wrong", title: "Files", logo: DEFAULT_LOGO, dateFormat: "DD.MM.YYYY" };
    const s = await register(client, httpWorker(workerUrl, TOKEN), opts);
    expect(s.failed).toBe(true);
    const source = s.lines.find((l) => l.object === "source")!;
    expect(source.outcome).toBe("failed");
    expect(source.detail).toMatch(/^the Worker rejected the token/);
    expect(p.sources).toEqual([]);
  });

  it("reports a dataset name taken by someone else, and --prefix avoids it", async () => {
    const p = await freshPortal();
    p.datasets.push({ id: 999, name: "sales", sourceId: 12345, externalCode: "sales", fields: [] });
    const s = await run(p);
    expect(s.lines.find((l) => l.object === "table sales")).toMatchObject({
      outcome: "failed",
      detail: expect.stringContaining("--prefix"),
    });
    expect(s.lines.find((l) => l.object === "table t_1c_stock")!.outcome).toBe("created");
    const again = await run(p, { prefix: "files_" });
    expect(again.lines.find((l) => l.object === "table files_sales")!.outcome).toBe("created");
  });

  it("validates dataset names locally and sends nothing when one is invalid", async () => {
    const p = await freshPortal();
    const s = await run(p, { prefix: "1x_" });
    expect(s.failed).toBe(true);
    expect(s.lines[0]).toMatchObject({ object: "table 1x_sales", outcome: "failed", detail: expect.stringContaining("^[a-z][a-z0-9_]*$") });
    expect(p.calls).toEqual([]);
  });

  it("retries rate-limited calls and refreshes an expired token", async () => {
    const p = await freshPortal({ rateLimitEvery: 3, expiredToken: "old-access" });
    const s = await run(p, {}, "old-access");
    expect(s.failed).toBe(false);
    expect(p.refreshes).toBe(1);
    expect(p.datasets.length).toBe(2);
  });

  it("changes nothing in a dry run", async () => {
    const p = await freshPortal();
    const s = await run(p, { dryRun: true });
    expect(outcomes(s)).toEqual([
      "connector: would create",
      "source: would create",
      "table sales: would create",
      "table t_1c_stock: would create",
    ]);
    expect(p.connectors).toEqual([]);
    expect(p.datasets).toEqual([]);
  });
});

describe("a connector key the portal shows but does not take", () => {
  it("is no change: nothing is sent again, and the line says unchanged", async () => {
    const p = await freshPortalOf({ generation: "older" });
    await run(p);
    // An older portal that lists supportMapping (as a newer revision of connector.get shows it) but refuses it in update.
    p.connectors[0].supportMapping = false;
    const writes = () => p.calls.filter((c) => /\.(add|update|delete)$/.test(c)).length;
    const before = writes();
    const s = await run(p);
    expect(s.lines[0]).toEqual({ object: "connector", outcome: "unchanged" });
    // One update was tried and refused (VALIDATION_UNKNOWN_PARAMETERS); nothing was left to send.
    expect(writes()).toBe(before + 1);
    expect((await run(p)).lines[0]).toEqual({ object: "connector", outcome: "unchanged" });
  });
});

describe("npm run setup (CLI)", () => {
  const cli = (args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      const root = join(import.meta.dirname, "..", "..");
      execFile(
        join(root, "node_modules", ".bin", "tsx"),
        [join(root, "scripts", "setup.ts"), ...args],
        { cwd: root },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });

  it("registers, masks secrets in a dry run, and exits non-zero on failure", async () => {
    const p = await freshPortalOf();
    const base = ["--portal", p.origin, "--access-token", "good-access", "--worker-url", workerUrl, "--token", TOKEN];
    const dry = await cli([...base, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain("would create");
    expect(dry.out).not.toContain("good-access");
    expect(dry.out).not.toContain(TOKEN);
    const real = await cli(base);
    expect(real.code).toBe(0);
    expect(real.out).toMatch(/table sales\s+created/);
    const again = await cli(base);
    expect(again.out).toContain("Nothing changed");
    const bad = await cli(["--portal", p.origin, "--access-token", "good-access", "--worker-url", workerUrl, "--token", "nope"]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("rejected the token");
  });
});
