import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import type { Miniflare } from "miniflare";
import { drainStdio, startWorker, workerdPids } from "../test/setup/worker";

export const TOKEN = "pull-token";

export interface Workerd {
  mf: Miniflare;
  url: string;
  port: number;
  pid: number;
  put(key: string, data: string | Uint8Array): Promise<void>;
  /** The Cron Trigger, as the platform runs it (compiles the tables put so far). */
  cron(): Promise<void>;
}

export async function startWorkerd(): Promise<Workerd> {
  const { mf, url, bucket } = await startWorker({ CONNECTOR_TOKEN: TOKEN, UPLOAD_TOKEN: TOKEN }, 0, {
    unsafeTriggerHandlers: true,
    handleRuntimeStdio: drainStdio,
  });
  const pid = workerdPids()[0];
  if (!pid) throw new Error("workerd's process was not found");
  return {
    mf,
    url,
    port: Number(new URL(url).port),
    pid,
    async put(key, data) {
      const buf = typeof data === "string" ? new TextEncoder().encode(data) : data;
      await bucket.put(key, buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
    },
    async cron() {
      await (await fetch(`${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/10 * * * *")}`)).text();
    },
  };
}

/** workerd's resident memory, in bytes. */
export function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
}

/** workerd's CPU time so far (user + system), in seconds. */
export function cpu(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `table` of `rows` rows of one column T, each `cell` characters (distinct: no compression or dictionary flatters it). */
export function longRows(rows: number, cell: number): string[] {
  return Array.from({ length: rows }, (_, i) => `${String(i).padStart(8, "0")}${"x".repeat(cell - 8)}`);
}

export type ClientKind = "none" | "slow" | "gone";

export interface Case {
  name: string;
  /** The /data request's JSON body (the token is added). */
  params: Record<string, unknown>;
}

export interface Outcome {
  name: string;
  client: ClientKind;
  baseRss: number;
  peakRss: number;
  /** Bytes the client received. */
  received: number;
  /** workerd's CPU seconds in the second that starts one second after the client went away ("gone" only). */
  cpuAfter?: number;
  /** Milliseconds `GET /` took while the client was connected (null: it did not answer within 5 s). */
  statusMs: number | null;
  ms: number;
}

/** `GET /`: how long it took, or null after 5 s. */
async function status(url: string): Promise<number | null> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status === 200 ? performance.now() - t0 : null;
  } catch {
    return null;
  }
}

/**
 * One /data request over a raw socket. `none`: the client reads the first
 * bytes, then nothing for `holdMs`; `slow`: it reads about `rate` bytes a
 * second for `holdMs`; `gone`: it reads `goneAfter` bytes and closes.
 */
export async function runClient(
  w: Workerd,
  c: Case,
  client: ClientKind,
  options: { holdMs: number; rate?: number; goneAfter?: number },
): Promise<Outcome> {
  await sleep(300); // the previous request's garbage settles
  const baseRss = rss(w.pid);
  let peakRss = baseRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rss(w.pid))), 20);
  const body = JSON.stringify({ connection: { token: TOKEN }, ...c.params });
  const sock: Socket = connect(w.port, "127.0.0.1");
  sock.on("error", () => {});
  let received = 0;
  let gone: () => void = () => {};
  const wentAway = new Promise<void>((r) => (gone = r));
  const t0 = performance.now();
  const rate = options.rate ?? 1024 * 1024;
  let credit = 0;
  let lastTick = performance.now();
  sock.on("data", (chunk: Buffer) => {
    received += chunk.byteLength;
    if (client === "none") sock.pause();
    else if (client === "gone" && received >= (options.goneAfter ?? 1024 * 1024)) {
      sock.destroy();
      gone();
    } else if (client === "slow") {
      // Reads no faster than `rate`: pauses as long as the bytes taken are ahead of it.
      const now = performance.now();
      credit += ((now - lastTick) / 1000) * rate - chunk.byteLength;
      lastTick = now;
      if (credit < 0) {
        sock.pause();
        setTimeout(
          () => {
            lastTick = performance.now();
            credit = 0;
            if (!sock.destroyed) sock.resume();
          },
          (-credit / rate) * 1000,
        );
      }
    }
  });
  sock.write(
    `POST /data HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  let statusMs: number | null;
  let cpuAfter: number | undefined;
  if (client === "gone") {
    await Promise.race([wentAway, sleep(options.holdMs)]);
    sock.destroy();
    statusMs = await status(w.url);
    await sleep(1000);
    const c0 = cpu(w.pid);
    await sleep(1000);
    cpuAfter = cpu(w.pid) - c0;
  } else {
    await sleep(options.holdMs / 2);
    statusMs = await status(w.url);
    await sleep(options.holdMs / 2);
    sock.destroy();
  }
  clearInterval(sampler);
  return {
    name: c.name,
    client,
    baseRss,
    peakRss: Math.max(peakRss, rss(w.pid)),
    received,
    cpuAfter,
    statusMs,
    ms: performance.now() - t0,
  };
}

export const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;

export function describeOutcome(o: Outcome): string {
  const cpuText = o.cpuAfter !== undefined ? `  CPU 1–2 s after it left ${o.cpuAfter.toFixed(2)} s` : "";
  return `${o.name.padEnd(44)} ${o.client.padEnd(5)} received ${mb(o.received).padStart(7)}  RSS ${mb(o.baseRss)} → peak ${mb(o.peakRss)} (+${mb(o.peakRss - o.baseRss)})  GET / ${o.statusMs === null ? "no answer" : `${Math.round(o.statusMs)} ms`}${cpuText}`;
}
