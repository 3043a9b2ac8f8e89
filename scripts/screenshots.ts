// `npm run screenshots`: every screen of the app page, in English and
// Russian, as `npm run portal` shows it (the local portal's page framing the
// real Worker, with the same addresses and application code; headless Debian
// chromium), into docs/app/<screen>-<lang>.png. PORT and PORTAL_PORT as for
// `npm run portal` (8787 and 8790 by default; stop it first).
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Frame, Page } from "playwright-core";
import { appFrame, launchBrowser, openApp, portalContext } from "../test/setup/browser";
import { startWorker } from "../test/setup/worker";
import { DEFAULT_PORTAL_PORT, DEFAULT_WORKER_PORT, LOCAL_APP_CODE, startLocalSite } from "./local-portal/site";

const root = join(import.meta.dirname, "..");
const out = join(root, "docs", "app");
mkdirSync(out, { recursive: true });

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));

const port = Number(process.env.PORT ?? DEFAULT_WORKER_PORT);
const site = await startLocalSite({ port: Number(process.env.PORTAL_PORT ?? DEFAULT_PORTAL_PORT), workerUrl: `http://127.0.0.1:${port}` });
const portal = site.portal;
const worker = await startWorker(
  {
    CONNECTOR_TOKEN: "dev-token",
    PORTAL_URL: site.origin,
    BITRIX_CLIENT_ID: LOCAL_APP_CODE,
    WORKER_URL: `http://127.0.0.1:${port}`,
    UPLOAD_TOKEN: "dev-upload-token",
  },
  port,
);
const tb = await launchBrowser();

async function seed(): Promise<void> {
  for (const o of (await worker.bucket.list()).objects) await worker.bucket.delete(o.key);
  const data = join(root, "sample-data");
  for (const f of files(data)) {
    const bytes = readFileSync(f);
    await worker.bucket.put(
      relative(data, f).split(sep).join("/"),
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );
  }
  portal.rest.reset();
  portal.installed = false;
}

async function shot(page: Page, name: string, lang: string): Promise<void> {
  await page.waitForTimeout(150);
  const file = join(out, `${name}-${lang}.png`);
  await (await page.$("iframe#app"))!.screenshot({ path: file });
  console.log(`docs/app/${name}-${lang}.png`);
}

async function upload(frame: Frame, name: string, content: string, key?: string): Promise<void> {
  await frame.click('[data-tab="upload"]');
  await frame.setInputFiles("#file", { name, mimeType: "text/csv", buffer: Buffer.from(content) });
  if (key) await frame.fill("#key", key);
  await frame.click("#upload");
  await frame.waitForSelector('[data-result="upload"], [data-result="upload-failed"]', { timeout: 60_000 });
}

try {
  for (const lang of ["en", "ru"]) {
    await seed();
    const context = await portalContext(tb.browser, lang === "ru" ? "ru-RU" : "en-GB");
    const page = await context.newPage();
    const app = `${worker.url}/app`;
    // The portal's page, as `npm run portal` prints it: the install path first, then Finish reloads into the app.
    await page.goto(`${site.origin}/?lang=${lang}&height=860`);
    let frame = await appFrame(page, `${worker.url}/install`);
    await frame.waitForSelector("#install");
    await frame.waitForSelector('#tables [data-state="datasetSynced"]');
    await shot(page, "1-first-install", lang);
    await Promise.all([frame.waitForNavigation(), frame.click('[data-action="install-finish"]')]);
    await frame.waitForSelector('#tables [data-state="datasetSynced"]');
    await shot(page, "2-tables", lang);
    await frame.click('[data-table="sales"]');
    await frame.waitForSelector("#preview");
    await shot(page, "3-table", lang);
    const header = "order_id,order_date,created_at,customer,region,product,quantity,unit_price,amount,manager,status,comment";
    const row = (i: number) =>
      `${100001 + i},2024-12-${String((i % 28) + 1).padStart(2, "0")},2024-12-01 10:${String(i % 60).padStart(2, "0")}:00,Globex,Kazan,Keyboard,${(i % 9) + 1},25.5,${((i % 9) + 1) * 25.5},Anna Petrova,WON,`;
    const withChannel = `${header},channel\n${Array.from({ length: 2500 }, (_, i) => `${row(i)},${i % 2 ? "web" : "shop"}`).join("\n")}\n`;
    await upload(frame, "sales.csv", withChannel);
    await frame.waitForSelector('[data-action="sync-add"]');
    await shot(page, "4-upload-schema-change", lang);
    await upload(
      frame,
      "sales.csv",
      `${header}\n${row(0)}\n${row(1)}\n100003,2024-12-03,2024-12-03 10:00:00,Initech,Kazan,"Monitor 27"",2,99.5,199,Anna Petrova,WON,\n`,
    );
    await shot(page, "5-upload-failed", lang);
    await frame.click('[data-tab="tables"]');
    await frame.click('[data-table="sales"]');
    await frame.waitForSelector("#versions");
    await frame.click('#versions [data-action="restore"]');
    await frame.waitForSelector('[role="alertdialog"]');
    await shot(page, "6-restore-confirm", lang);
    await frame.click('[data-tab="health"]');
    await frame.waitForSelector("#health");
    await shot(page, "7-settings", lang);
    frame = await openApp(page, site.origin, app, { lang, token: "non-admin-access", height: "400" });
    await frame.waitForSelector("main.message");
    await shot(page, "8-refused", lang);
    await context.close();
  }
  // The page a Worker without its settings answers.
  const bare = await startWorker({ CONNECTOR_TOKEN: "" });
  try {
    for (const lang of ["en", "ru"]) {
      const context = await portalContext(tb.browser);
      const page = await context.newPage();
      const frame = await openApp(page, site.origin, `${bare.url}/app`, { lang, height: "520" });
      await frame.waitForSelector("main.message");
      await shot(page, "9-not-set-up", lang);
      await context.close();
    }
  } finally {
    await bare.mf.dispose();
  }
} finally {
  await tb.close();
  await worker.mf.dispose();
  await site.stop();
}
