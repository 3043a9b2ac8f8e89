/**
 * Headless Chromium (the Debian package, never a download) driven by
 * playwright-core. The Worker under test has a loopback PORTAL_URL, so its
 * page loads the BX24 library from the local portal (routes/app/html.ts);
 * Bitrix24's own library hosts are never reached.
 */
import { type Browser, type BrowserContext, chromium, type Frame, type Page } from "playwright-core";

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

/** A browser context in `locale`; a request to Bitrix24's library hosts fails (the page must not need them). */
export async function portalContext(browser: Browser, locale = "en-GB"): Promise<BrowserContext> {
  const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
  await context.route(/^https?:\/\/api\.bitrix24\.(com|tech)\//, (route) => route.abort());
  return context;
}

/** The portal page's app frame, once it shows a page from `prefix` (the Worker's origin or a path under it). */
export async function appFrame(page: Page, prefix: string): Promise<Frame> {
  const handle = await page.waitForSelector("iframe#app");
  let frame = await handle.contentFrame();
  for (let i = 0; i < 100 && !frame?.url().startsWith(prefix); i++) {
    await page.waitForTimeout(50);
    frame = await handle.contentFrame();
  }
  if (!frame?.url().startsWith(prefix)) throw new Error("the app frame did not load");
  await frame.waitForLoadState("domcontentloaded");
  return frame;
}

/**
 * Opens the local portal's page that frames the app at `appUrl` (GET /frame:
 * `install`, `token`, `lang`, `domain`, `frame=older`, `height`), and returns
 * that frame once its script started.
 */
export async function openApp(page: Page, portalOrigin: string, appUrl: string, params: Record<string, string> = {}): Promise<Frame> {
  const q = new URLSearchParams({ app: appUrl, ...params });
  await page.goto(`${portalOrigin}/frame?${q}`);
  return appFrame(page, new URL(appUrl).origin);
}
