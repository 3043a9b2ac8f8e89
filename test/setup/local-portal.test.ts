// `npm run portal` as a newcomer runs it: the real script (wrangler dev with
// the local R2 seeded from sample-data/, and the local portal), its printed
// address opened in Chromium, the first install through the portal's frame.
// Its local state goes to a temporary folder (PERSIST_TO), not .wrangler/.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_APP_CODE } from "../../scripts/local-portal/site";
import { appFrame, launchBrowser, portalContext, type TestBrowser } from "./browser";
import { freePort } from "./worker";

const root = join(import.meta.dirname, "..", "..");
let run: ChildProcess;
let output = "";
let portalUrl: string;
let workerUrl: string;
let state: string;
let tb: TestBrowser;

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), "portal-state-"));
  const [port, portalPort, inspector] = [await freePort(), await freePort(), await freePort()];
  workerUrl = `http://127.0.0.1:${port}`;
  run = spawn(join(root, "node_modules", ".bin", "tsx"), [join(root, "scripts", "portal.ts")], {
    cwd: root,
    env: { ...process.env, PORT: String(port), PORTAL_PORT: String(portalPort), INSPECTOR_PORT: String(inspector), PERSIST_TO: state },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  run.stdout!.on("data", (c) => (output += c));
  run.stderr!.on("data", (c) => (output += c));
  for (let i = 0; i < 1200 && !/Local portal: (\S+)/.test(output) && run.exitCode === null; i++)
    await new Promise((r) => setTimeout(r, 100));
  const printed = /Local portal: (\S+)/.exec(output);
  if (!printed) throw new Error(`npm run portal printed no address:\n${output}`);
  portalUrl = printed[1];
  tb = await launchBrowser();
}, 150_000);

afterAll(async () => {
  await tb?.close();
  if (run?.pid && run.exitCode === null) {
    const exited = new Promise((r) => run.once("exit", r));
    process.kill(-run.pid, "SIGTERM");
    await exited;
  }
  rmSync(state, { recursive: true, force: true });
});

describe("npm run portal", () => {
  it("prints one address whose page installs the app in the portal's frame: the report until Finish, installFinish once, then the sample tables in sync", async () => {
    expect(portalUrl).toBe(`http://127.0.0.1:${new URL(portalUrl).port}/`);
    expect(output.match(new RegExp(LOCAL_APP_CODE.replace(/\./g, "\\."), "g"))).toHaveLength(1);
    const context = await portalContext(tb.browser);
    const page = await context.newPage();
    const complaints: string[] = [];
    page.on("pageerror", (e) => void complaints.push(e.message));
    const finishes: string[] = [];
    page.on("request", (r) => void (r.url().endsWith("/_bx24/installFinish") && finishes.push(r.method())));

    await page.goto(portalUrl);
    const frame = await appFrame(page, `${workerUrl}/install?DOMAIN=`);
    await frame.waitForSelector("#install");
    expect(await frame.textContent("#install h2")).toBe("Connected to the portal");
    const report = await frame.$$eval("#install li", (lis) => lis.map((li) => li.textContent));
    expect(report).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^connector: created/),
        expect.stringMatching(/^source: created/),
        expect.stringMatching(/^table sales: created/),
      ]),
    );
    await frame.waitForTimeout(300);
    expect(finishes).toEqual([]);

    await Promise.all([frame.waitForNavigation(), frame.click('[data-action="install-finish"]')]);
    expect(finishes).toEqual(["POST"]);
    expect(frame.url()).toMatch(new RegExp(`^${workerUrl}/app\\?DOMAIN=127\\.0\\.0\\.1%3A\\d+&PROTOCOL=0&LANG=en&APP_SID=[0-9a-f]{32}$`));
    await frame.waitForSelector('#tables tr:has([data-table="t_1c_realizatsiya"]) [data-state="datasetSynced"]');
    expect(await frame.$("#install")).toBeNull();
    expect((await frame.$$eval("#tables [data-table]", (as) => as.map((a) => a.getAttribute("data-table")))).sort()).toEqual([
      "events",
      "products",
      "sales",
      "t_1c_realizatsiya",
    ]);
    expect(await frame.$$eval("#tables [data-state]", (s) => s.map((x) => x.getAttribute("data-state")))).toEqual(
      Array(4).fill("datasetSynced"),
    );

    // The Worker runs with the portal's address and the local application's code.
    await frame.click('[data-tab="health"]');
    await frame.waitForSelector("#health");
    const settings = Object.fromEntries(
      await frame.$$eval("#health tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent))),
    );
    expect([settings.PORTAL_URL, settings.BITRIX_CLIENT_ID, settings.WORKER_URL]).toEqual([
      portalUrl.replace(/\/$/, ""),
      LOCAL_APP_CODE,
      workerUrl,
    ]);

    // Opened again, the portal says installed: the application, no report.
    await page.goto(portalUrl);
    const again = await appFrame(page, `${workerUrl}/app?DOMAIN=`);
    await again.waitForSelector('#tables [data-state="datasetSynced"]');
    expect(await again.$("#install")).toBeNull();
    expect(finishes).toEqual(["POST"]);
    expect(complaints).toEqual([]);
    await context.close();
  }, 120_000);
});
