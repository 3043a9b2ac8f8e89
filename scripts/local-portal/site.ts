/**
 * A portal on this machine, as `npm run portal` and the screenshots run it:
 * a LocalPortal (REST and the browser side) on a fixed loopback port, with
 * the local application "Files connector" whose handler and install paths
 * are the Worker's /app and /install, not installed yet (the first open is
 * the installation). GET / on its origin is the portal's page framing the app.
 */
import { createServer, connect, type Server } from "node:net";
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

/**
 * Forwards a fixed loopback port to the portal's own (LocalPortal listens on
 * a port of its choosing): byte for byte, so the Host the browser sends, and
 * every origin the pages compute, are the fixed port's.
 */
function forward(port: number, to: number): Promise<Server> {
  const open = new Set<{ destroy(): void }>();
  const server = createServer((socket) => {
    const upstream = connect(to, "127.0.0.1");
    open.add(socket).add(upstream);
    socket.on("close", () => (open.delete(socket), open.delete(upstream)));
    socket.pipe(upstream).pipe(socket);
    const close = () => (socket.destroy(), upstream.destroy());
    socket.on("error", close);
    upstream.on("error", close);
  });
  // A browser's kept-alive connections would hold close() open.
  server.on("close", () => open.forEach((s) => s.destroy()));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

export async function startLocalSite(options: { port: number; workerUrl: string }): Promise<LocalSite> {
  const portal = new LocalPortal({ modern: true });
  const own = Number(new URL(await portal.start()).port);
  let server: Server;
  try {
    server = await forward(options.port, own);
  } catch (err) {
    await portal.stop();
    throw err;
  }
  portal.installed = false;
  showLocalApp(portal, { code: LOCAL_APP_CODE, name: "Files connector", handler: `${options.workerUrl}/app`, install: `${options.workerUrl}/install` });
  return {
    portal,
    origin: `http://127.0.0.1:${options.port}`,
    stop: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await portal.stop();
    },
  };
}
