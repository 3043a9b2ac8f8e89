/**
 * A loopback HTTP server the tests talk to from inside workerd:
 *  - POST /php: encodes parameter objects with PHP's own http_build_query
 *    (php-cli), so request bodies are byte-identical to the portal's;
 *  - /files/…: URL-table sources (plain, redirecting, failing, slow);
 *  - /mutable/<id>: content a test sets with PUT, always under the same ETag;
 *  - /html, /html-as-csv, /image, /short/<bytes>: hostile or broken answers.
 *  - /endless, /trickle, /drip: endless, useless and slow bodies, with
 *    /stats/<id> saying how much was sent and whether the Worker hung up.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const PHP_ENCODE = `
$in = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
echo json_encode(array_map(fn($p) => http_build_query($p), $in), JSON_UNESCAPED_SLASHES);
`;

export function phpEncode(paramsList: unknown[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile("php", ["-r", PHP_ENCODE], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`php failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout));
    });
    child.stdin!.end(JSON.stringify(paramsList));
  });
}

export function checkPhp(): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile("php", ["-r", "echo http_build_query(['a' => [1]]);"], (err, out) =>
      err || out !== "a%5B0%5D=1"
        ? reject(new Error("php-cli is required for the tests (the portal's own encoder): apt-get install -y php-cli"))
        : resolve(),
    ),
  );
}

const FIXTURES = join(import.meta.dirname, "fixtures");

/** /mutable/<id>: what a test PUT there; served with one ETag whatever it holds. */
const mutable = new Map<string, { body: Buffer; type: string }>();

const HTML = `<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><p>a,b</p></body></html>\n`;

/**
 * An answer whose Content-Length promises more than comes: `bytes` bytes of
 * CSV, then the connection closes (written raw: Node's server would not lie).
 */
function serveShort(bytes: number, res: import("node:http").ServerResponse): void {
  let body = "n,s\n";
  for (let n = 0; body.length < bytes; n++) body += `${n},row ${n}\n`;
  body = body.slice(0, bytes);
  const socket = res.socket!;
  socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: ${bytes + 1000}\r\nconnection: close\r\n\r\n`);
  socket.write(body, () => setTimeout(() => socket.destroy(), 50));
}

/** Bytes written by /endless per id, and whether the client went away. */
const endless = new Map<string, { bytes: number; closed: boolean; done: boolean }>();

// A CSV that never ends (well: 1 GB): the Worker must stop reading by itself.
function serveEndless(id: string, res: import("node:http").ServerResponse): void {
  const stat = { bytes: 0, closed: false, done: false };
  endless.set(id, stat);
  res.on("close", () => (stat.closed = true));
  res.writeHead(200, { "content-type": "text/csv" });
  let n = 0;
  const block = () => {
    let s = n === 0 ? "n,s\n" : "";
    for (let i = 0; i < 1000; i++, n++) s += `${n},row ${n}\n`;
    return s;
  };
  const pump = () => {
    while (!stat.closed && stat.bytes < 1e9) {
      const chunk = block();
      stat.bytes += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    stat.done = true;
    res.end();
  };
  pump();
}

/**
 * A slow CSV server: `burst` bytes at once, then `next()` every 300 ms until
 * `forMs` have passed (so that a Worker without limits still finishes).
 */
function serveSlowly(
  id: string,
  res: import("node:http").ServerResponse,
  opts: { burst: number; forMs: number; next: () => string },
): void {
  const stat = { bytes: 0, closed: false, done: false };
  endless.set(id, stat);
  res.on("close", () => (stat.closed = true));
  res.writeHead(200, { "content-type": "text/csv" });
  while (stat.bytes < opts.burst) {
    const chunk = opts.next();
    stat.bytes += chunk.length;
    res.write(chunk);
  }
  const started = Date.now();
  const timer = setInterval(() => {
    if (stat.closed || Date.now() - started > opts.forMs) {
      clearInterval(timer);
      stat.done = !stat.closed;
      res.end();
      return;
    }
    const chunk = opts.next();
    stat.bytes += chunk.length;
    res.write(chunk);
  }, 300);
}

/** Numbered CSV rows, the header first: `count` rows per call, numbered on across calls. */
function csvRows(): (count: number) => string {
  let n = 0;
  return (count) => {
    let s = n === 0 ? "n,s\n" : "";
    for (let i = 0; i < count; i++, n++) s += `${n},row ${String(n).padStart(8, "0")}\n`;
    return s;
  };
}

// Alive but useless: the header, then 2 bytes every 300 ms, for 15 s.
function serveTrickle(id: string, res: import("node:http").ServerResponse): void {
  let first = true;
  serveSlowly(id, res, { burst: 1, forMs: 15_000, next: () => (first ? ((first = false), "n,s\n") : "1,") });
}

// Fast for its first 1.5 MB, then 2 KB every 300 ms for up to 60 s: slow but live.
function serveDrip(id: string, res: import("node:http").ServerResponse): void {
  const rows = csvRows();
  let total = 0;
  serveSlowly(id, res, {
    burst: 1.5e6,
    forMs: 60_000,
    next: () => {
      const chunk = rows(total < 1.5e6 ? 1000 : 100);
      total += chunk.length;
      return chunk;
    },
  });
}

// Slow from the start: 2 KB every 300 ms (alive, far too slow to deliver a 1 MiB sample in time), for 15 s.
function serveSlowStart(id: string, res: import("node:http").ServerResponse): void {
  const rows = csvRows();
  serveSlowly(id, res, { burst: 0, forMs: 15_000, next: () => rows(100) });
}

export async function startHelperServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (req.method === "POST" && url.pathname === "/php") {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const bodies = await phpEncode(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(bodies));
        return;
      }
      if (url.pathname.startsWith("/redirect/")) {
        res.writeHead(302, { location: decodeURIComponent(url.pathname.slice("/redirect/".length)) }).end();
        return;
      }
      if (url.pathname.startsWith("/status/")) {
        res.writeHead(Number(url.pathname.slice(8))).end("nope");
        return;
      }
      if (url.pathname.startsWith("/endless/")) {
        serveEndless(url.pathname.slice(9), res);
        return;
      }
      if (url.pathname.startsWith("/trickle/")) {
        serveTrickle(url.pathname.slice(9), res);
        return;
      }
      if (url.pathname.startsWith("/slowstart/")) {
        serveSlowStart(url.pathname.slice(11), res);
        return;
      }
      if (url.pathname.startsWith("/drip/")) {
        serveDrip(url.pathname.slice(6), res);
        return;
      }
      if (url.pathname.startsWith("/stats/")) {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(endless.get(url.pathname.slice(7)) ?? null));
        return;
      }
      if (url.pathname.startsWith("/mutable/")) {
        const id = url.pathname.slice(9);
        if (req.method === "PUT") {
          const chunks: Buffer[] = [];
          for await (const c of req) chunks.push(c as Buffer);
          mutable.set(id, { body: Buffer.concat(chunks), type: req.headers["content-type"] ?? "text/csv" });
          res.writeHead(204).end();
          return;
        }
        const item = mutable.get(id);
        if (!item) return void res.writeHead(404).end("not set");
        res.writeHead(200, { "content-type": item.type, etag: `"same-etag"` }).end(item.body);
        return;
      }
      if (url.pathname === "/encoded") {
        // Content-Encoding: the runtime decodes; the Content-Length counts the (here larger) encoded bytes.
        const encoded = gzipSync("a,b\n1,2\n");
        res.writeHead(200, { "content-type": "text/csv", "content-encoding": "gzip", "content-length": encoded.length }).end(encoded);
        return;
      }
      if (url.pathname === "/html") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(HTML);
        return;
      }
      if (url.pathname === "/html-as-csv") {
        // A login or error page served with the type the file would have had.
        res.writeHead(200, { "content-type": "text/csv" }).end(`\n  ${HTML.replace("<!DOCTYPE html>\n", "")}`);
        return;
      }
      if (url.pathname === "/image") {
        res.writeHead(200, { "content-type": "image/png" }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
        return;
      }
      if (url.pathname.startsWith("/short/")) {
        serveShort(Number(url.pathname.slice(7)), res);
        return;
      }
      if (url.pathname === "/p206") {
        // A part of a file, unasked: 206 with the first 1,000 bytes of a larger one.
        let body = "n,s\n";
        for (let i = 0; body.length < 1000; i++) body += `${i},row${i}\n`;
        res
          .writeHead(206, { "content-type": "text/csv", "content-range": `bytes 0-999/38894`, "content-length": "1000" })
          .end(body.slice(0, 1000));
        return;
      }
      if (url.pathname === "/slow") {
        setTimeout(() => res.writeHead(200).end("a,b\n1,2\n"), 3000);
        return;
      }
      if (url.pathname.startsWith("/exports/")) {
        // The real-exports corpus (test/fixtures/exports/), byte for byte: `expected/x` or `expected.x` for expected files.
        const name = url.pathname.slice(9).replace(/^expected\./, "expected/");
        if (!/^(?:expected\/)?[a-zA-Z0-9_-][a-zA-Z0-9._-]*$/.test(name)) throw new Error(`no such fixture: ${name}`);
        const body = await readFile(join(FIXTURES, "exports", name));
        // Expected files are JSON (workerd warns when a test reads an octet-stream as text).
        res.writeHead(200, { "content-type": name.endsWith(".json") ? "application/json" : "application/octet-stream" }).end(body);
        return;
      }
      if (url.pathname.startsWith("/files/")) {
        const name = url.pathname.slice(7).replace(/[^a-zA-Z0-9._-]/g, "");
        const body = await readFile(join(FIXTURES, name));
        res.writeHead(200, { "content-type": "text/csv", etag: `"${body.length}"` }).end(body);
        return;
      }
      res.writeHead(404).end("not found");
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  // workerd keeps idle connections to this server and reuses them: with Node's
  // default 5 s keep-alive the server closes a socket just as a test that ran
  // longer than that reuses it ("Network connection lost").
  server.keepAliveTimeout = 10 * 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, origin: `http://127.0.0.1:${address.port}` };
}
