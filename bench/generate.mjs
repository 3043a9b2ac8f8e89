#!/usr/bin/env node
// Deterministic benchmark files (seeded): a CSV of ROWS rows × 12 columns
// (ints, doubles, dates, datetimes, short and long strings, quoted fields
// with commas/quotes/newlines, empty cells) and its NDJSON twin.
// Usage: node bench/generate.mjs [rows=1000000] [name=bench]
import { createWriteStream, mkdirSync } from "node:fs";
import { join } from "node:path";

const rows = Number(process.argv[2] ?? 1_000_000);
const name = process.argv[3] ?? "bench";
const withNdjson = process.argv[4] !== "csv-only";
const dir = join(import.meta.dirname, "data");
mkdirSync(dir, { recursive: true });

let seed = 42;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];
const p2 = (n) => (n < 10 ? `0${n}` : `${n}`);
const REGIONS = ["Moscow", "Saint Petersburg", "Kazan", "Novosibirsk", "Yekaterinburg", "Samara", "Omsk", "Perm"];
const CUSTOMERS = ["Acme Corp", "ООО Ромашка", "Globex", "Initech", "Northwind", "Umbrella", "Stark Industries", "Wayne Enterprises"];
const PRODUCTS = ["Laptop", "Monitor 27in", "Keyboard, wireless", 'Cable "USB-C"', "Mouse", "Dock", "Headset", "Webcam"];
const STATUS = ["WON", "LOST", "NEW", "IN_PROGRESS"];
const WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore".split(" ");
const BASE = Date.UTC(2023, 0, 1);

const csvCell = (v) => (v === null ? "" : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const csv = createWriteStream(join(dir, `${name}.csv`));
const nd = withNdjson ? createWriteStream(join(dir, `${name}.ndjson`)) : null;
csv.write("id,order_date,created_at,customer,region,product,quantity,price,amount,status,comment,manager_id\n");

let i = 0;
function writeBatch() {
  let c = "";
  let n = "";
  for (let k = 0; k < 5000 && i < rows; k++, i++) {
    const day = Math.floor(rnd() * 730);
    const d = new Date(BASE + day * 86400000);
    const date = `${p2(d.getUTCDate())}.${p2(d.getUTCMonth() + 1)}.${d.getUTCFullYear()}`;
    const created = `${d.toISOString().slice(0, 10)} ${p2(Math.floor(rnd() * 24))}:${p2(Math.floor(rnd() * 60))}:${p2(Math.floor(rnd() * 60))}`;
    const q = 1 + Math.floor(rnd() * 20);
    const price = (Math.floor(rnd() * 1000000) / 100).toFixed(2);
    const r = rnd();
    const comment =
      r < 0.3
        ? null
        : r < 0.35
          ? `Note: "call back",\nthen ${pick(WORDS)}`
          : Array.from({ length: 3 + Math.floor(rnd() * 8) }, () => pick(WORDS)).join(" ");
    const rec = {
      id: String(i + 1),
      order_date: date,
      created_at: created,
      customer: pick(CUSTOMERS),
      region: pick(REGIONS),
      product: pick(PRODUCTS),
      quantity: String(q),
      price,
      amount: (q * Number(price)).toFixed(2),
      status: pick(STATUS),
      comment,
      manager_id: rnd() < 0.1 ? null : String(1 + Math.floor(rnd() * 50)),
    };
    c += Object.values(rec).map(csvCell).join(",") + "\n";
    n +=
      JSON.stringify({
        ...rec,
        id: i + 1,
        quantity: q,
        price: Number(price),
        amount: Number(rec.amount),
        manager_id: rec.manager_id === null ? null : Number(rec.manager_id),
      }) + "\n";
  }
  const okC = csv.write(c);
  const okN = withNdjson ? nd.write(n) : true;
  if (i >= rows) {
    csv.end();
    nd?.end();
    return;
  }
  if (okC && okN) setImmediate(writeBatch);
  else (okC ? nd : csv).once("drain", writeBatch);
}
writeBatch();
csv.on("finish", () => console.log(`wrote ${join(dir, `${name}.csv`)} (${rows} rows)`));
