#!/usr/bin/env node
// Regenerates sample-data/ deterministically (seeded), as files a Bitrix24
// analyst would recognise: a CRM/ERP sales export, a 1C report saved by Excel
// in Windows-1251 with `;`, an NDJSON event log and a JSON product list.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const root = join(import.meta.dirname, "..", "sample-data");
let seed = 20240131;
const rnd = () => {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const pad = (n, w = 2) => String(n).padStart(w, "0");
const write = (rel, data) => {
  const path = join(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
};
const csvCell = (v) => (v === null ? "" : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
const day = (i) => new Date(Date.UTC(2024, 0, 1) + i * 86400000);

// 1. sales.csv — comma-separated UTF-8, 3,000 orders.
{
  const customers = [
    'ООО "Ромашка"',
    "Acme Corp",
    "ИП Иванов, А. В.",
    "Northwind Traders",
    "Globex",
    'АО "Вектор"',
    "Initech",
    "O'Reilly Media",
  ];
  const products = ['Laptop 14"', 'Monitor 27"', "Keyboard", "Mouse", "Docking station", "Headset", "Webcam HD"];
  const regions = ["Moscow", "Saint Petersburg", "Kazan", "Novosibirsk", "Berlin", "London"];
  const managers = ["Anna Petrova", "John Smith", "Сергей Ким", "Maria Garcia"];
  const statuses = ["WON", "WON", "WON", "LOST", "IN_PROGRESS"];
  const rows = [
    [
      "order_id",
      "order_date",
      "created_at",
      "customer",
      "region",
      "product",
      "quantity",
      "unit_price",
      "amount",
      "manager",
      "status",
      "comment",
    ],
  ];
  for (let i = 1; i <= 3000; i++) {
    const d = day(int(0, 364));
    const q = int(1, 20);
    const price = (int(500, 250000) / 100).toFixed(2);
    const created = `${d.toISOString().slice(0, 10)} ${pad(int(8, 19))}:${pad(int(0, 59))}:${pad(int(0, 59))}`;
    const comment =
      rnd() < 0.1 ? 'Customer asked: "deliver\nbefore Friday"' : rnd() < 0.3 ? "" : pick(["repeat order", "discount 5%", "urgent"]);
    rows.push([
      100000 + i,
      d.toISOString().slice(0, 10),
      created,
      pick(customers),
      pick(regions),
      pick(products),
      q,
      price,
      (q * Number(price)).toFixed(2),
      pick(managers),
      pick(statuses),
      comment,
    ]);
  }
  write("sales.csv", rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n");
}

// 2. 1c/realizatsiya.csv — a 1C report saved from Excel: `;`, Windows-1251, comma decimals.
{
  const cp1251 = (text) => {
    const out = [];
    for (const ch of text) {
      const c = ch.codePointAt(0);
      if (c < 0x80) out.push(c);
      else if (c >= 0x410 && c <= 0x44f) out.push(c - 0x410 + 0xc0);
      else if (c === 0x401) out.push(0xa8);
      else if (c === 0x451) out.push(0xb8);
      else if (c === 0x2116) out.push(0xb9);
      else if (c === 0xa0) out.push(0xa0);
      else throw new Error(`no cp1251 for ${ch}`);
    }
    return Uint8Array.from(out);
  };
  const items = ["Бумага А4, 500 л.", "Картридж HP 85A", "Стул офисный", "Стол письменный", "Ручка шариковая (синяя)", "Папка-регистратор"];
  const counterparties = ['ООО "Ромашка"', 'ЗАО "Север"', "ИП Сидоров", 'ООО "Торговый дом №1"'];
  const warehouses = ["Основной склад", "Склад №2", "Магазин на Ленина"];
  const lines = ["Дата продажи;Номер документа;Номенклатура;Количество;Цена;Сумма;Контрагент;Склад;Артикул"];
  for (let i = 1; i <= 500; i++) {
    const d = day(int(0, 180));
    const date = `${pad(d.getUTCDate())}.${pad(d.getUTCMonth() + 1)}.${d.getUTCFullYear()}`;
    const q = int(1, 50);
    const price = int(1000, 2000000) / 100;
    const sum = q * price;
    const money = (n) =>
      n
        .toFixed(2)
        .replace(".", ",")
        .replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
    const item = pick(items);
    const cp = pick(counterparties);
    lines.push(
      [
        date,
        `РН-${pad(i, 6)}`,
        item.includes(";") ? `"${item}"` : item,
        q,
        money(price),
        money(sum),
        cp.includes('"') ? `"${cp.replace(/"/g, '""')}"` : cp,
        pick(warehouses),
        pad(int(1, 999), 5),
      ].join(";"),
    );
  }
  write("1c/realizatsiya.csv", cp1251(lines.join("\r\n") + "\r\n"));
}

// 3. events.ndjson — an application event log.
{
  const events = ["login", "view_deal", "update_deal", "export_report", "logout"];
  const out = [];
  for (let i = 0; i < 2000; i++) {
    const t = new Date(Date.UTC(2024, 2, 1) + i * 97000 + int(0, 60000));
    const e = { ts: t.toISOString(), user_id: int(1, 40), event: pick(events), duration_ms: int(5, 5000), success: rnd() > 0.05 };
    if (rnd() < 0.3) e.props = { deal_id: int(1, 900), source: pick(["web", "mobile", "api"]) };
    out.push(JSON.stringify(e));
  }
  write("events.ndjson", out.join("\n") + "\n");
}

// 4. products.json — a JSON array of objects from another system.
{
  const cats = ["Computers", "Peripherals", "Furniture", "Office supplies"];
  const out = [];
  for (let i = 1; i <= 120; i++) {
    out.push({
      sku: `SKU-${pad(i, 4)}`,
      name: `Product ${i}`,
      category: pick(cats),
      price: int(100, 90000) / 100,
      in_stock: int(0, 500),
      launched: `${2019 + int(0, 5)}-${pad(int(1, 12))}-${pad(int(1, 28))}`,
      tags: rnd() < 0.5 ? [pick(["new", "sale", "eco"])] : null,
    });
  }
  write("products.json", JSON.stringify(out, null, 1) + "\n");
}
console.log(`sample data written to ${root}`);
