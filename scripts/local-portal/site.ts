/**
 * A portal on this machine, as `npm run portal` and the screenshots run it:
 * a LocalPortal (REST and the browser side) on a fixed loopback port, with
 * the local application "Files connector" whose handler and install paths
 * are the Worker's /app and /install, not installed yet (the first open is
 * the installation). GET / on its origin is the portal's page framing the app.
 */
import { LOCAL_APP_CODE, showLocalApp } from "./frame";
import { LocalPortal } from "./portal";

export { LOCAL_APP_CODE };

/** Where `npm run portal` puts the portal and the Worker by default (PORTAL_PORT, PORT). */
export const DEFAULT_PORTAL_PORT = 8790;
export const DEFAULT_WORKER_PORT = 8787;

export interface LocalSite {
  portal: LocalPortal;
  /** The portal's origin: the Worker's PORTAL_URL. */
  origin: string;
  stop(): Promise<void>;
}

export async function startLocalSite(options: { port: number; workerUrl: string }): Promise<LocalSite> {
  const portal = new LocalPortal();
  await portal.start(options.port);
  portal.installed = false;
  showLocalApp(portal, {
    code: LOCAL_APP_CODE,
    name: "Files connector",
    handler: `${options.workerUrl}/app`,
    install: `${options.workerUrl}/install`,
  });
  return {
    portal,
    origin: `http://127.0.0.1:${options.port}`,
    stop: () => portal.stop(),
  };
}
