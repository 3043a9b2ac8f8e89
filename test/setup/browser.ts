/**
 * Headless Chromium (the Debian package, never a download) driven by
 * playwright-core, with the fake portal's BX24 stub served for
 * //api.bitrix24.com/api/v1/ as the portal's frame would load it.
 */
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * playwright-core starts Chromium with a fresh temporary --user-data-dir of
 * its own (it refuses the flag in `args`) and removes it on close.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
    },
  };
}

/** A new page with the BX24 library answered from the fake portal. */
export async function portalContext(browser: Browser, portalOrigin: string, locale = "en-GB"): Promise<BrowserContext> {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
  const stub = await (await fetch(`${portalOrigin}/api/v1/`)).text();
  await context.route(/^https?:\/\/api\.bitrix24\.com\/api\/v1\/?/, (route) => route.fulfill({ status: 200, contentType: "text/javascript", body: stub }));
  return context;
}

/** Opens the portal's page that frames the app at `appUrl`, and returns that frame once its script started. */
export async function openApp(page: Page, portalOrigin: string, appUrl: string, params: Record<string, string> = {}): Promise<Frame> {
  const q = new URLSearchParams({ app: appUrl, ...params });
  await page.goto(`${portalOrigin}/frame?${q}`);
  const handle = await page.waitForSelector("iframe#app");
  let frame = await handle.contentFrame();
  for (let i = 0; i < 100 && (!frame || !frame.url().startsWith(appUrl)); i++) {
    await page.waitForTimeout(50);
    frame = await handle.contentFrame();
  }
  if (!frame) throw new Error("the app frame did not load");
  await frame.waitForLoadState("domcontentloaded");
  return frame;
}
