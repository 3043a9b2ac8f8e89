// The app page in a real headless Chromium, framed by the local portal
// exactly as the portal does (a form POST into an iframe: DOMAIN, PROTOCOL,
// LANG, APP_SID in the action URL's query string, or all in the body for the
// older form), against the real Worker in workerd. One browser for the whole file.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import type { BrowserContext, Frame, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { applicationTokenOf } from "../../scripts/local-portal/frame";
import { LocalPortal } from "../../scripts/local-portal/portal";
import { launchBrowser, openApp, portalContext, type TestBrowser } from "./browser";
import { freePort, startWorker } from "./worker";

const TOKEN = "app-connector-token";
const SALES = "id,day,amount\n1,31.01.2024,2.5\n2,01.02.2024,3\n";

let portal: LocalPortal;
let worker: { mf: Miniflare; url: string; bucket: R2Bucket };
let tb: TestBrowser;
let context: BrowserContext;
let page: Page;
let host: string;
/** What the browser said about the page: a CSP violation or a script error fails the test. */
let complaints: string[] = [];

const WRITES = /^biconnector\.\w+\.(add|update|delete)$|^biconnector\.dataset\.fields\.update$/;
const writes = () => portal.calls.filter((c) => WRITES.test(c));
const text = async (bucket: R2Bucket, key: string) => (await (await bucket.get(key))?.text()) ?? null;

async function open(params: Record<string, string> = {}): Promise<Frame> {
  return openApp(page, portal.origin, `${worker.url}/app`, { domain: host, ...params });
}

/** The first install through the page (the portal's INSTALLED is false): the report, then Finish reloads the frame into the app. */
async function installed(params: Record<string, string> = {}): Promise<Frame> {
  portal.installed = false;
  const frame = await open(params);
  await frame.waitForSelector("#install");
  await frame.waitForSelector('#tables [data-state="datasetSynced"]');
  await finish(frame);
  return frame;
}

/** Presses "Finish installation" and waits for the frame the portal reloads into the app. */
async function finish(frame: Frame): Promise<void> {
  const before = portal.installFinishCalls;
  await Promise.all([frame.waitForNavigation(), frame.click('[data-action="install-finish"]')]);
  expect(portal.installFinishCalls).toBe(before + 1);
  await frame.waitForSelector('#tables [data-state="datasetSynced"]');
  expect(await frame.$("#install")).toBeNull();
}

/** The types a browser gives these files (the XHR sends the File with it). */
const MIME: Record<string, string> = {
  csv: "text/csv",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  xls: "application/vnd.ms-excel",
};

async function upload(frame: Frame, name: string, content: string | Buffer, key?: string): Promise<void> {
  await frame.click('[data-tab="upload"]');
  await frame.setInputFiles("#file", {
    name,
    mimeType: MIME[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream",
    buffer: Buffer.isBuffer(content) ? content : Buffer.from(content),
  });
  if (key) await frame.fill("#key", key);
  await frame.click("#upload");
  await frame.waitForSelector('[data-result="upload"], [data-result="upload-failed"]', { timeout: 30_000 });
}

beforeAll(async () => {
  portal = new LocalPortal();
  await portal.start();
  host = new URL(portal.origin).host;
  const port = await freePort();
  worker = await startWorker(
    {
      CONNECTOR_TOKEN: TOKEN,
      PORTAL_URL: portal.origin,
      BITRIX_CLIENT_ID: LocalPortal.APP_CODE,
      WORKER_URL: `http://127.0.0.1:${port}`,
      UPLOAD_KEEP_VERSIONS: "5",
    },
    port,
  );
  tb = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await tb?.close();
  await worker?.mf.dispose();
  await portal?.stop();
});

beforeEach(async () => {
  portal.reset();
  for (const o of (await worker.bucket.list()).objects) await worker.bucket.delete(o.key);
  await worker.bucket.put("sales.csv", SALES);
  await context?.close();
  context = await portalContext(tb.browser);
  page = await context.newPage();
  complaints = [];
  page.on(
    "console",
    (m) =>
      void (
        m.type() === "error" &&
        !/Failed to load resource: the server responded with a status of (4|5)\d\d/.test(m.text()) &&
        complaints.push(m.text())
      ),
  );
  page.on("pageerror", (e) => void complaints.push(e.message));
});

afterEach(() => {
  expect(complaints).toEqual([]);
});

describe("the app page in the portal's frame", () => {
  it("first install registers once, keeps its report until Finish, then calls BX24.installFinish() once; reopening registers nothing", async () => {
    portal.installed = false;
    const frame = await open();
    await frame.waitForSelector('#tables [data-state="datasetSynced"]');
    expect(await frame.textContent("#install h2")).toBe("Connected to the portal");
    expect(await frame.textContent("#install")).toContain("table sales: created");
    expect(await frame.textContent('#install [data-action="install-finish"]')).toBe("Finish installation");
    // The report stays on other screens, and nothing tells the portal the installation is over until Finish.
    await frame.click('[data-tab="upload"]');
    await frame.click('[data-tab="tables"]');
    await frame.waitForTimeout(300);
    expect(await frame.textContent("#install h2")).toBe("Connected to the portal");
    expect(portal.installFinishCalls).toBe(0);
    expect(portal.installed).toBe(false);
    // The current frame form carries the installation's APPLICATION_TOKEN: recorded once the token was verified.
    expect(JSON.parse((await text(worker.bucket, ".app/installation.json"))!)).toEqual({
      applicationToken: applicationTokenOf(portal),
      memberId: "member-1",
      installedAt: expect.any(String),
    });

    await finish(frame);
    expect(frame.url()).toMatch(new RegExp(`^${worker.url}/app\\?DOMAIN=`));
    expect(portal.installFinishCalls).toBe(1);
    expect(portal.installed).toBe(true);
    expect(portal.connectors).toHaveLength(1);
    expect(portal.sources).toHaveLength(1);
    expect(portal.datasets.map((d) => [d.name, d.fields.map((f: { name: string }) => f.name)])).toEqual([
      ["sales", ["ID", "DAY", "AMOUNT"]],
    ]);
    expect(writes()).toEqual(["biconnector.connector.add", "biconnector.source.add", "biconnector.table.add"]);

    portal.calls = [];
    const again = await open();
    await again.waitForSelector('#tables [data-state="datasetSynced"]');
    expect(await again.$("#install")).toBeNull();
    expect(portal.calls.slice(0, 2)).toEqual(["app.info", "user.admin"]);
    expect(writes()).toEqual([]);
    expect(portal.installFinishCalls).toBe(1);
    expect(portal.connectors).toHaveLength(1);
  });

  it("the install path opens first, and Finish reloads the frame into the handler path", async () => {
    portal.installed = false;
    const frame = await open({ install: `${worker.url}/install` });
    expect(frame.url()).toMatch(new RegExp(`^${worker.url}/install\\?DOMAIN=`));
    await frame.waitForSelector("#install");
    await finish(frame);
    expect(frame.url()).toMatch(new RegExp(`^${worker.url}/app\\?DOMAIN=`));
    expect(writes()).toEqual(["biconnector.connector.add", "biconnector.source.add", "biconnector.table.add"]);
  });

  it("an install without its source shows the report and no Finish", async () => {
    portal.installed = false;
    portal.checkFails = true;
    const frame = await open();
    await frame.waitForSelector("#install");
    expect(await frame.textContent("#install h2")).toBe("The connector could not be fully connected");
    expect(await frame.textContent("#install")).toContain("The installation is not finished");
    expect(await frame.$('[data-action="install-finish"]')).toBeNull();
    await frame.waitForTimeout(300);
    expect(portal.installFinishCalls).toBe(0);
  });

  it("the older frame form (everything in the body) installs too; it has no APPLICATION_TOKEN to record", async () => {
    const frame = await installed({ frame: "older" });
    expect(frame.url()).toBe(`${worker.url}/app`);
    expect(portal.installFinishCalls).toBe(1);
    expect(writes()).toEqual(["biconnector.connector.add", "biconnector.source.add", "biconnector.table.add"]);
    expect(await worker.bucket.head(".app/installation.json")).toBeNull();
  });

  it("another portal's DOMAIN, in the query string or in the older body, is refused before the portal is asked", async () => {
    for (const generation of ["current", "older"]) {
      portal.calls = [];
      const frame = await open({ domain: "evil.example.com", frame: generation });
      await frame.waitForSelector("main.message h1");
      expect(await frame.textContent("h1")).toBe("This application is for the portal's administrators");
      expect(portal.calls).toEqual([]);
    }
  });

  it("a non-admin and another application's token see a polite refusal and no data", async () => {
    for (const token of ["non-admin-access", "other-app-access", "garbage"]) {
      portal.calls = [];
      const frame = await open({ token });
      await frame.waitForSelector("main.message h1");
      expect(await frame.textContent("h1")).toBe("This application is for the portal's administrators");
      const body = (await frame.content()).toLowerCase();
      for (const secret of ["sales", "amount", "x-app-session", "boot", TOKEN]) expect(body).not.toContain(secret.toLowerCase());
      expect(portal.calls.filter((c) => c.startsWith("biconnector."))).toEqual([]);
    }
    expect(portal.connectors).toEqual([]);
  });

  it("an upload through the page shows its progress, then the table with its row count and columns", async () => {
    const frame = await installed();
    // 3 MB, so the browser reports the transfer in several progress events.
    const rows = 100_000;
    const csv = `order_id,paid_on,total\n${Array.from({ length: rows }, (_, i) => `${i + 1},${String((i % 28) + 1).padStart(2, "0")}.03.2024,${(i % 1000) + 0.5}`).join("\n")}\n`;
    await upload(frame, "orders.csv", csv);
    expect(await frame.textContent('[data-result="upload"]')).toBe("Uploaded: 100000 rows, 3 columns.");
    // (The callback runs in the page; typed loosely here, the test project has no DOM types.)
    expect(
      await frame.$eval("#progress", (p: { value: number; hidden: boolean; getAttribute(n: string): string | null }) => [
        p.value,
        p.hidden,
        p.getAttribute("data-loaded"),
      ]),
    ).toEqual([1, false, String(Buffer.byteLength(csv))]);
    expect(
      await frame.$$eval("#upload-columns tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent))),
    ).toEqual([
      ["ORDER_ID", "order_id", "int"],
      ["PAID_ON", "paid_on", "date"],
      ["TOTAL", "total", "double"],
    ]);
    // A new file: its dataset is one button away.
    await frame.click('[data-action="sync-create"]');
    await frame.waitForSelector('[data-result="sync"]');
    expect(portal.datasets.find((d) => d.name === "orders")?.fields.map((f: { name: string }) => f.name)).toEqual([
      "ORDER_ID",
      "PAID_ON",
      "TOTAL",
    ]);

    await frame.click('[data-tab="tables"]');
    const row = await frame.waitForSelector('#tables tr:has([data-table="orders"])');
    await frame.waitForSelector('#tables tr:has([data-table="orders"]) [data-state="datasetSynced"]');
    const mb = `${(Buffer.byteLength(csv) / 1024 / 1024).toFixed(1)} MB`;
    expect(await row.$$eval("td", (tds) => tds.map((td) => td.textContent))).toEqual([
      "orders",
      "orders",
      "orders.csv",
      mb,
      "100,000",
      expect.any(String),
      "in sync",
    ]);
    await frame.click('[data-table="orders"]');
    await frame.waitForSelector("#columns");
    expect(
      await frame.$$eval("#columns tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent))),
    ).toEqual([
      ["ORDER_ID", "order_id", "int", "1"],
      ["PAID_ON", "paid_on", "date", "2024-03-01"],
      ["TOTAL", "total", "double", "0.5"],
    ]);
    // The first 20 rows exactly as /data answers the portal's preview (limit=20).
    const preview = await frame.$$eval("#preview tr", (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("th, td")].map((c) => c.textContent)),
    );
    expect(preview).toHaveLength(21);
    expect(preview[0]).toEqual(["ORDER_ID", "PAID_ON", "TOTAL"]);
    expect(preview[1]).toEqual(["1", "2024-03-01", "0.5"]);
    expect(preview[20]).toEqual(["20", "2024-03-20", "19.5"]);
  });

  it("a file dropped on the zone is taken like a chosen one", async () => {
    const frame = await installed();
    await frame.click('[data-tab="upload"]');
    // Runs in the page (the test project has no DOM types, hence the lookup on globalThis).
    const drop = await frame.evaluateHandle(() => {
      const dt = new (globalThis as unknown as { DataTransfer: new () => { items: { add(f: File): void } } }).DataTransfer();
      dt.items.add(new File(["sku,qty\nA-1,3\nB-2,5\n"], "stock.csv", { type: "text/csv" }));
      return dt;
    });
    await frame.dispatchEvent("#dropzone", "drop", { dataTransfer: drop });
    expect(await frame.inputValue("#key")).toBe("stock.csv");
    await frame.click("#upload");
    await frame.waitForSelector('[data-result="upload"]');
    expect(await frame.textContent('[data-result="upload"]')).toBe("Uploaded: 2 rows, 2 columns.");
    expect(await text(worker.bucket, "stock.csv")).toBe("sku,qty\nA-1,3\nB-2,5\n");
  });

  it("a schema change is shown and synced: added fields in one click, removed ones only after confirming", async () => {
    const frame = await installed();
    await upload(frame, "sales.csv", "id,day,amount,manager\n1,31.01.2024,2.5,Anna\n");
    expect(await frame.textContent('[data-result="schema-change"]')).toBe("Columns changed: added MANAGER; removed —; retyped —.");
    await frame.click('[data-action="sync-add"]');
    await frame.waitForSelector('[data-result="sync"]');
    const fields = () => portal.datasets.find((d) => d.name === "sales")!.fields.map((f: { name: string }) => f.name);
    expect(fields()).toEqual(["ID", "DAY", "AMOUNT", "MANAGER"]);

    await upload(frame, "sales.csv", "id,day,manager\n1,31.01.2024,Anna\n");
    expect(await frame.textContent('[data-result="schema-change"]')).toBe("Columns changed: added —; removed AMOUNT; retyped —.");
    await frame.click('[data-action="sync-remove"]');
    expect(await frame.textContent('[role="alertdialog"] p')).toBe(
      "Remove the fields AMOUNT from the portal's dataset? Reports that use them stop working.",
    );
    expect(fields()).toEqual(["ID", "DAY", "AMOUNT", "MANAGER"]); // nothing before the confirmation
    await frame.click('[role="alertdialog"] [data-action="confirm"]');
    await frame.waitForSelector('[data-result="sync"]');
    expect(fields()).toEqual(["ID", "DAY", "MANAGER"]);
  });

  it("restores a kept version and deletes a table (kept as a version), each after confirming", async () => {
    const frame = await installed();
    await upload(frame, "sales.csv", "id,day,amount\n9,01.01.2025,1\n");
    expect(await text(worker.bucket, "sales.csv")).toBe("id,day,amount\n9,01.01.2025,1\n");
    await frame.click('[data-action="open"]');
    await frame.waitForSelector("#versions");
    await frame.click('#versions [data-action="restore"]');
    await frame.click('[role="alertdialog"] [data-action="confirm"]');
    await frame.waitForSelector('[data-result="restore"]');
    expect(await text(worker.bucket, "sales.csv")).toBe(SALES);

    await frame.waitForSelector('#table-detail [data-action="delete"]');
    await frame.click('#table-detail [data-action="delete"]');
    expect(await frame.textContent('[role="alertdialog"] p')).toBe(
      "Delete the file sales.csv? It is kept as a version and can be restored.",
    );
    await frame.click('[role="alertdialog"] [data-action="confirm"]');
    await frame.waitForSelector('[data-result="delete"]');
    expect(await worker.bucket.head("sales.csv")).toBeNull();
    expect((await worker.bucket.list({ prefix: ".versions/sales.csv/" })).objects.length).toBeGreaterThanOrEqual(2);
    expect(await frame.textContent("section")).toContain("No tables yet");
  });

  it("a bad file shows the first bad record, and the live table is unchanged", async () => {
    const frame = await installed();
    await upload(frame, "sales.csv", 'id,day,amount\n1,31.01.2024,2.5\n2,"never closed,3\n');
    expect(await frame.textContent('[data-result="upload-failed"]')).toBe("The file was not accepted; the live table is unchanged.");
    const detail = await frame.textContent("pre.error-detail");
    expect(detail).toMatch(/^CSV_MALFORMED: The upload to "sales\.csv" was rejected and the live table is unchanged: .*record 3/i);
    expect(await text(worker.bucket, "sales.csv")).toBe(SALES);
  });

  it("an expired portal token is replaced through BX24.refreshAuth, without reloading the page", async () => {
    const frame = await installed();
    await upload(frame, "sales.csv", "id,day,amount,manager\n1,31.01.2024,2.5,Anna\n");
    portal.expiredTokens.add("good-access");
    await frame.click('[data-action="sync-add"]');
    await frame.waitForSelector('[data-result="sync"]');
    expect(portal.datasets[0].fields.map((f: { name: string }) => f.name)).toEqual(["ID", "DAY", "AMOUNT", "MANAGER"]);
    expect(portal.validTokens.has("fresh-access-1")).toBe(true);
  });

  it("speaks the portal's LANG, whatever the browser's language, from either frame form", async () => {
    portal.installed = false;
    const frame = await open({ lang: "ru" });
    await frame.waitForSelector('#tables [data-state="datasetSynced"]');
    expect(await frame.textContent("#install h2")).toBe("Коннектор подключён к порталу");
    expect(await frame.textContent('#install [data-action="install-finish"]')).toBe("Завершить установку");
    expect(await frame.textContent('[data-tab="upload"]')).toBe("Загрузка");
    expect(await frame.textContent('#tables [data-state="datasetSynced"]')).toBe("поля совпадают");
    await Promise.all([frame.waitForNavigation(), frame.click('[data-action="install-finish"]')]);
    expect(portal.installFinishCalls).toBe(1);
    await frame.waitForSelector('#tables [data-state="datasetSynced"]');
    expect(await frame.$("#install")).toBeNull();
    expect(await frame.textContent('[data-tab="tables"]')).toBe("Таблицы");

    for (const [locale, lang, tab] of [
      ["ru-RU", "en", "Upload"],
      ["en-GB", "ru", "Загрузка"],
    ]) {
      for (const generation of ["current", "older"]) {
        const ctx = await portalContext(tb.browser, locale);
        try {
          const p = await ctx.newPage();
          const f = await openApp(p, portal.origin, `${worker.url}/app`, { domain: host, lang, frame: generation });
          await f.waitForSelector('[data-tab="upload"]');
          expect([locale, generation, await f.textContent('[data-tab="upload"]'), await f.getAttribute("html", "lang")]).toEqual([
            locale,
            generation,
            tab,
            lang,
          ]);
        } finally {
          await ctx.close();
        }
      }
    }
  });

  it("an Excel workbook uploaded through the page is listed with its row count; an .xls is refused with how to convert it", async () => {
    const frame = await installed();
    await frame.click('[data-tab="upload"]');
    expect((await frame.getAttribute("#file", "accept"))?.split(",")).toEqual([
      ".csv",
      ".tsv",
      ".json",
      ".ndjson",
      ".jsonl",
      ".xlsx",
      ".xlsm",
      ".gz",
    ]);
    expect(await frame.textContent("#dropzone")).toContain("Excel workbooks .xlsx and .xlsm");
    expect(await frame.textContent("#dropzone")).toContain("Refused: .xls (Excel 97–2003), .xlsb and .ods");
    // XlsxWriter's report: a title row, the header on row 3, a totals row; 4 data rows.
    const report = readFileSync(join(import.meta.dirname, "..", "fixtures", "exports", "xlsxwriter-report.xlsx"));
    await upload(frame, "xlsxwriter-report.xlsx", report, "report.xlsx");
    expect(await frame.textContent('[data-result="upload"]')).toBe("Uploaded: 4 rows, 9 columns.");
    await frame.click('[data-action="sync-create"]');
    await frame.waitForSelector('[data-result="sync"]');
    await frame.click('[data-tab="tables"]');
    const row = await frame.waitForSelector('#tables tr:has([data-table="report"])');
    expect((await row.$$eval("td", (tds) => tds.map((td) => td.textContent))).slice(0, 5)).toEqual([
      "report",
      "report",
      "report.xlsx",
      expect.stringMatching(/ KB$/),
      "4",
    ]);

    const xls = readFileSync(join(import.meta.dirname, "..", "fixtures", "exports", "libreoffice-sales.xls"));
    await upload(frame, "libreoffice-sales.xls", xls);
    expect(await frame.textContent("pre.error-detail")).toContain(
      "this is an Excel 97-2003 binary workbook (OLE2/BIFF8); save it as .xlsx (Excel Workbook) or .csv and upload that.",
    );
  });
});
