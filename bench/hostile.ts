/**
 * Issue 9 §2's hostile inputs against the real Worker (workerd via Miniflare),
 * with wall time and workerd's peak RSS per request:
 *
 *   npx tsx bench/hostile.ts [case…]
 *
 * Run it on two checkouts to get before/after figures. Each request is cut
 * off after CUTOFF_MS (reported as "> N s"). The select-10,000 case comes
 * last: on unfixed code it kills workerd.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
import { phpEncode } from "../test/helper-server";
import { drainStdio, startWorker, workerdPids } from "../test/setup/worker";

const TOKEN = "bench-token";
const CUTOFF_MS = Number(process.env.CUTOFF_MS ?? 70_000);
const only = new Set(process.argv.slice(2));

const rss = (pid: number) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
};
const mb = (n: number) => `${Math.round(n / 1e6)} MB`;

// A URL-table server: 2 bytes every 5 s, forever; records when the Worker hangs up.
const trickle = { open: 0, closedAt: 0 };
const server = createServer((_req, res) => {
  trickle.open++;
  res.on("close", () => (trickle.closedAt = Date.now()));
  res.writeHead(200, { "content-type": "text/csv" });
  res.write("a,b\n");
  const t = setInterval(() => (res.closed ? clearInterval(t) : res.write("1,")), 5000);
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

const { mf, url, bucket } = await startWorker(
  {
    CONNECTOR_TOKEN: TOKEN,
    UPLOAD_TOKEN: TOKEN,
    URL_ALLOWED_HOSTS: new URL(origin).host,
    URL_TABLES: JSON.stringify([{ code: "trickle", title: "Trickle", url: `${origin}/t.csv`, format: "csv" }]),
  },
  0,
  { handleRuntimeStdio: drainStdio },
);
const pid = workerdPids()[0];
const put = async (key: string, data: string | Uint8Array) => {
  const buf = typeof data === "string" ? new TextEncoder().encode(data) : data;
  await bucket.put(key, buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
};

interface Result {
  status: number | string;
  ms: number;
  ttfbMs?: number;
  bytes: number;
  peakRss: number;
  baseRss: number;
  head: string;
}

async function send(path: string, init: RequestInit, cutoff = CUTOFF_MS): Promise<Result> {
  const baseRss = rss(pid);
  let peakRss = baseRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rss(pid))), 20);
  const t0 = performance.now();
  let status: number | string = "cut off";
  let bytes = 0;
  let head = "";
  let ttfbMs: number | undefined;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), cutoff);
  try {
    const res = await fetch(`${url}${path}`, { ...init, signal: abort.signal });
    status = res.status;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      ttfbMs ??= performance.now() - t0;
      bytes += value.byteLength;
      if (head.length < 300) head += new TextDecoder().decode(value.subarray(0, 300));
    }
  } catch (err) {
    status = abort.signal.aborted ? `cut off after ${cutoff / 1000} s` : `failed: ${(err as Error).message}`;
  } finally {
    clearTimeout(timer);
    clearInterval(sampler);
  }
  return { status, ms: performance.now() - t0, ttfbMs, bytes, peakRss: Math.max(peakRss, rss(pid)), baseRss, head: head.slice(0, 160) };
}

async function data(params: Record<string, unknown>, cutoff?: number): Promise<Result> {
  const [body] = await phpEncode([{ connection: { token: TOKEN }, ...params }]);
  return send("/data", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body }, cutoff);
}

function report(name: string, r: Result): void {
  const tail = r.head.includes("!ERROR") ? r.head.slice(r.head.indexOf("!ERROR"), r.head.indexOf("!ERROR") + 60) : r.head.slice(0, 70);
  console.log(
    `${name.padEnd(44)} status ${String(r.status).padEnd(22)} ${(r.ms / 1000).toFixed(2).padStart(7)} s  answer ${mb(r.bytes).padStart(7)}  RSS ${mb(r.baseRss)} → peak ${mb(r.peakRss)}  ${JSON.stringify(tail)}`,
  );
}

const cases: [string, () => Promise<void>][] = [
  [
    "like",
    async () => {
      await put("like.csv", `ID,TXT\n1,${"a".repeat(60)}\n`);
      report("LIKE %%%%%%%%b on a 60-char cell", await data({ table: "like", filter: { "=%TXT": "%%%%%%%%b" } }));
    },
  ],
  [
    "number-filter",
    async () => {
      await put("num.csv", "ID,N\n1,5\n");
      report("filter value of 160,000 digits + x", await data({ table: "num", filter: { ">N": "1".repeat(160_000) + "x" } }));
    },
  ],
  [
    "number-cell",
    async () => {
      await put("bigcell.csv", `ID,N\n1,5\n2,${"1".repeat(240_000)}x\n`);
      await put("bigcell.csv.schema.json", JSON.stringify({ columns: { N: { type: "int" } } }));
      report("a 240,000-digit cell (int column)", await data({ table: "bigcell" }));
    },
  ],
  [
    "record",
    async () => {
      const text = `A,B\n1,2\n3,"${"x".repeat(20 * 1024 * 1024)}\n`;
      await put("quote.csv", text);
      report("/data on a 20 MB unclosed-quote record", await data({ table: "quote" }));
      report(
        "PUT of that file",
        await send("/files/quote2.csv", { method: "PUT", headers: { authorization: `Bearer ${TOKEN}` }, body: text }),
      );
    },
  ],
  [
    "gzip",
    async () => {
      const file = "/tmp/hostile-bomb.csv.gz";
      if (!existsSync(file)) {
        const row = Buffer.from("1,2\n".repeat(1 << 20)); // 4 MiB
        writeFileSync(file, gzipSync(Buffer.concat([Buffer.from("A,B\n"), ...Array(256).fill(row)]), { level: 9 })); // 1 GiB
      }
      const gz = readFileSync(file);
      await put("bomb.csv.gz", new Uint8Array(gz));
      report(`/data limit=1 on a ${mb(gz.byteLength)} → 1 GiB .csv.gz`, await data({ table: "bomb", limit: 1 }));
      await new Promise((r) => setTimeout(r, 3000));
      console.log(`   RSS 3 s later: ${mb(rss(pid))}`);
      report(
        "PUT of that .csv.gz",
        await send("/files/bomb2.csv.gz", { method: "PUT", headers: { authorization: `Bearer ${TOKEN}` }, body: new Uint8Array(gz) }),
      );
    },
  ],
  [
    "contains",
    async () => {
      let text = "ID,TXT\n";
      for (let i = 0; i < 20_000; i++) text += `${i},customer ${i} of the north region\n`;
      await put("needles.csv", text);
      // As JSON: PHP's form encoding of 100,000 values is over the 1 MiB body cap.
      const body = JSON.stringify({
        connection: { token: TOKEN },
        table: "needles",
        select: ["ID"],
        filter: { "%TXT": Array.from({ length: 100_000 }, (_, i) => `z${i}`) },
      });
      report(
        "contains with 100,000 needles × 20,000 rows",
        await send("/data", { method: "POST", headers: { "content-type": "application/json" }, body }),
      );
      report(
        "contains with 20,000 needles (PHP form)",
        await data({ table: "needles", select: ["ID"], filter: { "%TXT": Array.from({ length: 20_000 }, (_, i) => `z${i}`) } }),
      );
    },
  ],
  [
    "trickle",
    async () => {
      const r = await data({ table: "trickle" }, 45_000);
      report("URL table trickling 2 bytes every 5 s", r);
      const t = Date.now();
      await new Promise((res) => setTimeout(res, 2000));
      console.log(
        `   upstream ${trickle.closedAt && trickle.closedAt <= t + 2000 ? `closed ${((trickle.closedAt - t) / 1000).toFixed(1)} s after the answer` : "still open 2 s after the answer"}`,
      );
    },
  ],
  [
    "select-2000",
    async () => {
      await put("sel.csv", `ID,TXT\n${Array.from({ length: 50 }, (_, i) => `${i},${"x".repeat(800)}`).join("\n")}\n`);
      report("select of 2,000 copies (50 rows × 800 chars)", await data({ table: "sel", select: Array(2000).fill("TXT") }));
    },
  ],
  [
    "select-1000",
    async () => {
      await put("sel.csv", `ID,TXT\n${Array.from({ length: 50 }, (_, i) => `${i},${"x".repeat(800)}`).join("\n")}\n`);
      report("select of 1,000 copies (the most allowed)", await data({ table: "sel", select: Array(1000).fill("TXT") }));
    },
  ],
  [
    "full-load",
    async () => {
      // Not hostile: the cost of the bounds on an ordinary full load.
      let text = "ID,DAY,NAME,AMOUNT,QTY,NOTE\n";
      for (let i = 0; i < 300_000; i++)
        text += `${i},2024-01-${String((i % 28) + 1).padStart(2, "0")},customer ${i % 977},${(i * 7.31) % 10000},${i % 50},"note, ${i}"\n`;
      await put("full.csv", text);
      await data({ table: "full", limit: 1 }); // describe once
      for (let k = 0; k < 3; k++) report("full load, 300,000 rows × 6 columns", await data({ table: "full" }));
      for (let k = 0; k < 2; k++)
        report(
          "same, filter =%NAME %9_7% + select 3",
          await data({ table: "full", select: ["ID", "NAME", "AMOUNT"], filter: { "=%NAME": "%9_7%" } }),
        );
    },
  ],
  [
    "select-10000",
    async () => {
      await put("sel.csv", `ID,TXT\n${Array.from({ length: 50 }, (_, i) => `${i},${"x".repeat(800)}`).join("\n")}\n`);
      report("select of 10,000 copies", await data({ table: "sel", select: Array(10_000).fill("TXT") }));
      const after = await send("/", { method: "GET" }, 10_000);
      console.log(`   next request: ${after.status}`);
    },
  ],
];

for (const [name, run] of cases) {
  if (only.size > 0 && !only.has(name)) continue;
  try {
    await run();
  } catch (err) {
    console.log(`${name}: ${(err as Error).message}`);
  }
}
await mf.dispose().catch(() => {});
server.closeAllConnections();
server.close();
