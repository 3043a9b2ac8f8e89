/**
 * The /data answer path in plain Node, for CPU profiles and repeatable CPU
 * figures: describe → plan → rows → answerRows → urlDataBody, output drained
 * and hashed (so two versions of the code can be compared byte for byte).
 *   node --import tsx bench/answer-node.ts FILE full|range|dashboard|preview|parse [repeat]
 * Prints {rows, outBytes, sha256, cpuMs, wallMs} per run as JSON lines.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { describeStream } from "../src/catalog/describe";
import { tableRows } from "../src/formats/rows";
import type { TableEntry } from "../src/model";
import { planQuery } from "../src/query/pipeline";
import { answerRows } from "../src/query/project";
import type { DataRequest } from "../src/request/schemas";
import { urlDataBody } from "../src/write/urldata";

const [file, scenario = "full", repeat = "1"] = process.argv.slice(2);
const REQUESTS: Record<string, Partial<DataRequest>> = {
  full: {},
  range: {
    select: ["ID", "AMOUNT", "REGION"],
    filter: { ">=ORDER_DATE": "01.03.2024", "<=ORDER_DATE": "31.03.2024", "=REGION": ["Kazan", "Omsk"] },
  },
  dashboard: { filter: { ">=ORDER_DATE": "01.03.2024", "<=ORDER_DATE": "31.03.2024" } },
  preview: { limit: 20 },
};

async function* bytes() {
  for await (const c of createReadStream(file, { highWaterMark: 1024 * 1024 })) yield new Uint8Array(c as Buffer);
}

// Both option names, so the same harness runs the code before this change (pieceChars) for before/after figures.
const PIECE = { pieceBytes: 64 * 1024, pieceChars: 64 * 1024 };

const ext = file.split(".").pop()!;
const entry: TableEntry = { code: "bench", title: "bench", source: { kind: "r2", key: `bench.${ext}`, extension: ext, gzip: false } };

for (let k = 0; k < Number(repeat); k++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { description, bytes: all } = await describeStream(entry, bytes(), undefined);
  const plan = planQuery(description, { table: "bench", ...REQUESTS[scenario] } as DataRequest, "DD.MM.YYYY");
  const rows = tableRows(all, description);
  if (scenario === "parse") {
    // The floor: decoding and parsing alone, nothing converted or written.
    let n = 0;
    for await (const b of rows) n += b.length;
    const cpu = process.cpuUsage(cpu0);
    console.log(
      JSON.stringify({ scenario, rows: n, cpuMs: Math.round((cpu.user + cpu.system) / 1000), wallMs: Math.round(performance.now() - t0) }),
    );
    continue;
  }
  let sent = 0;
  const pump = answerRows(description, plan, rows, { ...PIECE, onEnd: (n) => (sent = n) });
  const body = urlDataBody(plan.header, pump, async () => void (await rows.return(undefined)), "bench");
  const hash = createHash("sha256");
  let outBytes = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    outBytes += chunk.byteLength;
  }
  const cpu = process.cpuUsage(cpu0);
  console.log(
    JSON.stringify({
      scenario,
      rows: sent,
      outBytes,
      sha256: hash.digest("hex").slice(0, 16),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      wallMs: Math.round(performance.now() - t0),
    }),
  );
}
