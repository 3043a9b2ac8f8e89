/**
 * The app page's script (bundled into src/routes/app/assets.ts by
 * `npm run build:app`). It starts from the boot data the Worker put in the
 * page after verifying the portal's token, keeps the session in memory, and
 * sends it as `x-app-session` on its own calls. Every value reaches the page
 * as text (textContent, never innerHTML).
 */
import type { Boot, SummaryLine } from "../src/routes/app/boot";
import { type MessageKey, say } from "../src/routes/app/messages";

interface TableRow {
  code: string;
  title: string;
  source: { kind: "r2"; key: string } | { kind: "url"; url: string };
  size: number | null;
  rows: number | null;
  updated: string | null;
}
interface ApiError {
  code: string;
  message: string;
}
interface BX24Auth {
  access_token?: string;
}
declare const BX24: { init(cb: () => void): void; installFinish(): void; refreshAuth(cb: (auth: BX24Auth) => void): void } | undefined;

const boot = JSON.parse(document.getElementById("boot")!.textContent!) as Boot;
const lang = boot.lang;
let session = boot.session;
let sessionExpires = boot.expires;
const t = (key: MessageKey, values?: Record<string, string | number>) => say(lang, key, values);

// ---- DOM: elements built from text only ----
type Child = Node | string | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | ((e: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") el.addEventListener(k, v);
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}
const root = document.getElementById("app")!;
function show(...children: Child[]): void {
  root.replaceChildren(...(children.filter((c) => c !== null && c !== undefined && c !== false) as (Node | string)[]));
}
function table(headers: string[], rows: Child[][], attrs: Record<string, string> = {}): HTMLTableElement {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
  );
}
const cell = (v: unknown) => (v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));
function size(bytes: number | null): string {
  if (bytes === null) return "—";
  const units = ["B", "KB", "MB", "GB"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) (v /= 1024), u++;
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString(lang === "ru" ? "ru-RU" : "en-GB") : "—");
const note = (kind: "ok" | "error" | "info", text: string, attrs: Record<string, string> = {}) =>
  h("p", { class: `note ${kind}`, ...attrs }, text);

/** An inline confirmation (no window.confirm: dialogs are blocked in cross-origin frames). */
function confirmBox(question: string, onYes: () => void): HTMLElement {
  const box: HTMLElement = h(
    "div",
    { class: "confirm", role: "alertdialog" },
    h("p", {}, question),
    h("button", { class: "danger", "data-action": "confirm", click: () => (box.remove(), onYes()) }, t("confirm")),
    h("button", { click: () => box.remove() }, t("cancel")),
  );
  return box;
}

// ---- API with the session; a fresh portal token renews it ----
function portalAuth(): Promise<string | null> {
  return new Promise((resolve) => {
    if (typeof BX24 === "undefined") return resolve(null);
    try {
      BX24.refreshAuth((auth) => resolve(auth?.access_token ?? null));
    } catch {
      resolve(null);
    }
  });
}
async function renew(): Promise<boolean> {
  const token = await portalAuth();
  if (!token) return false;
  const res = await fetch("/app/api/session", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ AUTH_ID: token, member_id: boot.member }),
  });
  if (!res.ok) return false;
  const fresh = (await res.json()) as { token: string; expires: number };
  session = fresh.token;
  sessionExpires = fresh.expires;
  return true;
}

/**
 * Before an upload: a session about to expire is renewed first, because a
 * refusal arriving while a large body is still being sent may reach the
 * browser only as a broken connection.
 */
async function freshSession(): Promise<void> {
  if (sessionExpires * 1000 - Date.now() < 120_000) await renew();
}
const RENEWABLE = new Set(["SESSION_EXPIRED", "PORTAL_TOKEN_EXPIRED"]);

class CallError extends Error {
  constructor(
    readonly error: ApiError,
    readonly status: number,
  ) {
    super(error.message);
  }
}
async function call<T>(path: string, init: RequestInit = {}, retried = false): Promise<T> {
  await freshSession();
  const res = await fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), "x-app-session": session } });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {}
  if (res.ok) return json as T;
  const error = ((json as { error?: ApiError } | null)?.error ?? { code: `HTTP_${res.status}`, message: text.slice(0, 300) }) as ApiError;
  if (!retried && RENEWABLE.has(error.code) && (await renew())) return call(path, init, true);
  if (error.code === "SESSION_INVALID" || RENEWABLE.has(error.code)) error.message = t("sessionLost");
  throw new CallError(error, res.status);
}
const post = <T>(path: string, body: unknown) =>
  call<T>(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

// ---- state ----
let tables: TableRow[] = [];
let portalLines: SummaryLine[] | null = null;
let portalError: string | null = null;
let view: "tables" | "upload" | "health" | { table: string } = "tables";
let flash: HTMLElement | null = null;
/** The first install's report: on every screen until the portal reloads the frame. */
let installEl: HTMLElement | null = null;

function datasetState(code: string): { key: MessageKey; kind: string; line?: SummaryLine } {
  if (portalError) return { key: "datasetFailed", kind: "error" };
  if (!portalLines) return { key: "datasetUnknown", kind: "muted" };
  const line = portalLines.find((l) => l.table === code);
  if (!line || line.outcome === "failed") return { key: "datasetFailed", kind: "error", line };
  if (line.outcome === "would create") return { key: "datasetMissing", kind: "warn", line };
  const c = line.changes;
  if (c && (c.added.length || c.removed.length || c.retyped.length)) return { key: "datasetDiffers", kind: "warn", line };
  return { key: "datasetSynced", kind: "ok", line };
}

async function loadPortal(): Promise<void> {
  try {
    portalLines = (await call<{ lines: SummaryLine[] }>("/app/api/portal")).lines;
    portalError = null;
  } catch (err) {
    portalError = (err as Error).message;
  }
  // The upload screen holds a transfer and its report: it is never rebuilt under them.
  if (view !== "upload") render();
}
async function loadTables(): Promise<void> {
  tables = (await call<{ tables: TableRow[] }>("/app/api/tables")).tables;
}
async function refresh(): Promise<void> {
  await loadTables();
  render();
  void loadPortal();
}

// ---- screens ----
function tabs(): HTMLElement {
  const tab = (name: "tables" | "upload" | "health", key: MessageKey) =>
    h(
      "button",
      {
        class: view === name ? "tab active" : "tab",
        "data-tab": name,
        click: () => ((view = name), (flash = null), (uploadEl = null), (uploadKey = ""), render()),
      },
      t(key),
    );
  return h("nav", { class: "tabs" }, tab("tables", "tabTables"), tab("upload", "tabUpload"), tab("health", "tabHealth"));
}

function tablesScreen(): HTMLElement {
  if (tables.length === 0) return h("section", {}, note("info", t("noTables")));
  const rows = tables.map((x) => {
    const state = datasetState(x.code);
    return [
      h("a", { href: "#", "data-table": x.code, click: (e: Event) => (e.preventDefault(), openTable(x.code)) }, x.title),
      h("code", {}, x.code),
      x.source.kind === "r2" ? x.source.key : x.source.url,
      size(x.size),
      x.rows === null ? "—" : x.rows.toLocaleString(lang === "ru" ? "ru-RU" : "en-GB"),
      when(x.updated),
      h("span", { class: `badge ${state.kind}`, "data-state": state.key }, t(state.key)),
    ];
  });
  return h(
    "section",
    {},
    portalError ? note("error", t("failed", { message: portalError })) : null,
    table([t("colTitle"), t("colCode"), t("colSource"), t("colSize"), t("colRows"), t("colUpdated"), t("colDataset")], rows, {
      id: "tables",
    }),
  );
}

function summaryList(lines: SummaryLine[]): HTMLElement {
  return h(
    "ul",
    { class: "summary" },
    ...lines.map((l) =>
      h("li", { class: l.outcome === "failed" ? "error" : "" }, `${l.object}: ${l.outcome}${l.detail ? ` — ${l.detail}` : ""}`),
    ),
  );
}

async function sync(code: string, prune: boolean, out: HTMLElement): Promise<void> {
  out.replaceChildren(note("info", t("loading")));
  try {
    const r = await post<{ lines: SummaryLine[]; failed: boolean }>("/app/api/sync", { tables: [code], prune });
    out.replaceChildren(
      note(r.failed ? "error" : "ok", r.failed ? t("failed", { message: "" }) : t("syncDone"), { "data-result": "sync" }),
      summaryList(r.lines),
    );
    await loadPortal();
  } catch (err) {
    out.replaceChildren(note("error", t("failed", { message: (err as Error).message })));
  }
}

/** The buttons that bring the portal's dataset in line with the file (removing asks first). */
function syncButtons(code: string, out: HTMLElement): HTMLElement {
  const state = datasetState(code);
  const box = h("div", { class: "actions" });
  const c = state.line?.changes;
  if (state.key === "datasetMissing")
    box.append(h("button", { class: "primary", "data-action": "sync-create", click: () => sync(code, false, out) }, t("createDataset")));
  if (state.key === "datasetDiffers" && c) {
    if (c.added.length)
      box.append(
        h(
          "button",
          { class: "primary", "data-action": "sync-add", click: () => sync(code, false, out) },
          t("syncAdd", { fields: c.added.join(", ") }),
        ),
      );
    const gone = [...c.removed, ...c.retyped];
    if (gone.length) {
      box.append(
        h(
          "button",
          {
            class: "danger",
            "data-action": "sync-remove",
            click: () => box.append(confirmBox(t("syncRemoveConfirm", { fields: gone.join(", ") }), () => sync(code, true, out))),
          },
          t("syncRemove", { fields: gone.join(", ") }),
        ),
      );
    }
  }
  return box;
}

interface TableDetail {
  code: string;
  title: string;
  source: { kind: "r2"; key: string } | { kind: "url"; url: string };
  columns: { code: string; name: string; type: string; example: unknown }[];
  preview: { rows: unknown[][] } | { error: ApiError };
  versions: { version: string; size: number; uploaded: string }[];
}

async function openTable(code: string): Promise<void> {
  view = { table: code };
  uploadEl = null;
  flash = null;
  render();
}

async function tableScreen(code: string): Promise<HTMLElement> {
  const d = await call<TableDetail>(`/app/api/table?code=${encodeURIComponent(code)}`);
  const out = h("div", { class: "result" });
  const key = d.source.kind === "r2" ? d.source.key : null;
  const state = datasetState(code);
  const previewBlock =
    "rows" in d.preview
      ? table(
          (d.preview.rows[0] as string[]) ?? [],
          d.preview.rows.slice(1).map((r) => r.map(cell)),
          { id: "preview", class: "wide" },
        )
      : note("error", `${d.preview.error.code}: ${d.preview.error.message}`);
  const versions = d.versions.length
    ? table(
        [t("colUpdated"), t("colSize"), ""],
        d.versions.map((v) => {
          const actions = h("span", {});
          actions.append(
            h(
              "button",
              {
                "data-action": "restore",
                "data-version": v.version,
                click: () => actions.append(confirmBox(t("restoreConfirm", { when: when(v.uploaded) }), () => restore(key!, v.version))),
              },
              t("restore"),
            ),
          );
          return [when(v.uploaded), size(v.size), actions];
        }),
        { id: "versions" },
      )
    : note("info", t("noVersions"));
  const head = h("div", { class: "actions" });
  if (key) {
    head.append(
      h(
        "button",
        { "data-action": "replace", click: () => ((view = "upload"), (uploadKey = key), (uploadEl = null), render()) },
        t("replace"),
      ),
      h(
        "button",
        { class: "danger", "data-action": "delete", click: () => head.append(confirmBox(t("deleteConfirm", { key }), () => remove(key))) },
        t("deleteTable"),
      ),
    );
  }
  return h(
    "section",
    { id: "table-detail", "data-code": code },
    h("p", {}, h("a", { href: "#", click: (e: Event) => (e.preventDefault(), (view = "tables"), render()) }, t("back"))),
    h("h2", {}, d.title, " ", h("code", {}, d.code)),
    h(
      "p",
      { class: "muted" },
      key ?? (d.source as { url: string }).url,
      " · ",
      h("span", { class: `badge ${state.kind}`, "data-state": state.key }, t(state.key)),
    ),
    head,
    syncButtons(code, out),
    out,
    h("h3", {}, t("columns")),
    table(
      [t("colCode"), t("colName"), t("colType"), t("colExample")],
      d.columns.map((c) => [h("code", {}, c.code), c.name, c.type, cell(c.example)]),
      { id: "columns" },
    ),
    h("h3", {}, t("preview")),
    previewBlock,
    h("h3", {}, t("versions")),
    versions,
  );
}

async function restore(key: string, version: string): Promise<void> {
  try {
    await call(`/files/${key.split("/").map(encodeURIComponent).join("/")}/restore?version=${encodeURIComponent(version)}`, {
      method: "POST",
    });
    flash = note("ok", t("restored"), { "data-result": "restore" });
  } catch (err) {
    flash = note("error", t("failed", { message: (err as Error).message }));
  }
  await loadTables();
  render();
  void loadPortal();
}

async function remove(key: string): Promise<void> {
  try {
    await call(`/files/${key.split("/").map(encodeURIComponent).join("/")}`, { method: "DELETE" });
    flash = note("ok", t("deleted"), { "data-result": "delete" });
    view = "tables";
  } catch (err) {
    flash = note("error", t("failed", { message: (err as Error).message }));
  }
  await loadTables();
  render();
  void loadPortal();
}

// ---- upload: the File itself, streamed from disk by the browser, with its progress ----
let uploadKey = "";
let uploadEl: HTMLElement | null = null;
function uploadScreen(): HTMLElement {
  uploadEl ??= newUploadScreen();
  return uploadEl;
}
function newUploadScreen(): HTMLElement {
  const input = h("input", { type: "file", id: "file", accept: boot.accept }) as HTMLInputElement;
  const keyInput = h("input", { type: "text", id: "key", value: uploadKey, size: "40" }) as HTMLInputElement;
  const bar = h("progress", { id: "progress", max: "1", value: "0", hidden: "" }) as HTMLProgressElement;
  const status = h("p", { id: "upload-status", class: "muted" });
  const report = h("div", { id: "report" });
  const pick = (file: File | undefined) => {
    if (!file) return;
    chosen = file;
    if (!uploadKey) keyInput.value = file.name;
    status.textContent = `${file.name} · ${size(file.size)}`;
  };
  let chosen: File | undefined;
  input.addEventListener("change", () => pick(input.files?.[0]));
  const zone = h(
    "div",
    { class: "dropzone", id: "dropzone" },
    h("p", {}, t("dropHere"), " ", h("label", { for: "file", class: "link" }, t("choose")), input),
    h("p", { class: "muted" }, t("formats")),
  );
  zone.addEventListener("dragover", (e) => (e.preventDefault(), zone.classList.add("over")));
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    pick((e as DragEvent).dataTransfer?.files[0]);
  });
  const button = h(
    "button",
    { class: "primary", id: "upload", click: () => chosen && send(chosen, keyInput.value.trim() || chosen.name, bar, status, report) },
    t("uploadButton"),
  );
  return h("section", {}, zone, h("p", {}, h("label", { for: "key" }, t("uploadKey"), " "), keyInput, " ", button), bar, status, report);
}

interface UploadAnswer {
  key: string;
  table: string;
  rows: number;
  columns: { code: string; name: string; type: string }[];
  schemaChange: { added: string[]; removed: string[]; retyped: { code: string; from: string; to: string }[] } | null;
  notes: string[];
}

async function send(
  file: File,
  key: string,
  bar: HTMLProgressElement,
  status: HTMLElement,
  report: HTMLElement,
  retried = false,
): Promise<void> {
  await freshSession();
  const xhr = new XMLHttpRequest();
  xhr.open("PUT", `/app/api/upload?key=${encodeURIComponent(key)}`);
  xhr.setRequestHeader("x-app-session", session);
  bar.hidden = false;
  bar.value = 0;
  status.textContent = t("uploading", { name: file.name });
  report.replaceChildren();
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) bar.value = e.loaded / e.total;
    bar.dataset.loaded = String(e.loaded);
  };
  xhr.upload.onload = () => ((bar.value = 1), (status.textContent = t("checking")));
  xhr.onerror = () => (status.textContent = t("failed", { message: "network error" }));
  xhr.onload = async () => {
    let json: { error?: ApiError } & Partial<UploadAnswer> = {};
    try {
      json = JSON.parse(xhr.responseText);
    } catch {}
    if (xhr.status === 401 && !retried && json.error && RENEWABLE.has(json.error.code) && (await renew()))
      return send(file, key, bar, status, report, true);
    status.textContent = "";
    if (xhr.status >= 400 || !json.table) {
      report.replaceChildren(
        note("error", t("uploadFailed"), { "data-result": "upload-failed" }),
        h("pre", { class: "error-detail" }, json.error ? `${json.error.code}: ${json.error.message}` : xhr.responseText.slice(0, 500)),
      );
      return;
    }
    const a = json as UploadAnswer;
    const c = a.schemaChange;
    const out = h("div", { class: "result" });
    const syncSlot = h("div", {});
    // The page offers the sync itself: the answer's hints for the command line are left out.
    const notes = a.notes.filter((n) => !n.includes("npm run setup"));
    await loadTables();
    report.replaceChildren();
    report.append(
      ...(
        [
          note("ok", t("uploadDone", { rows: a.rows, columns: a.columns.length }), { "data-result": "upload" }),
          c
            ? note(
                "info",
                t("schemaChange", {
                  added: c.added.join(", ") || "—",
                  removed: c.removed.join(", ") || "—",
                  retyped: c.retyped.map((r) => `${r.code} (${r.from} → ${r.to})`).join(", ") || "—",
                }),
                { "data-result": "schema-change" },
              )
            : null,
          syncSlot,
          out,
          notes.length ? h("div", {}, h("h3", {}, t("notes")), h("ul", {}, ...notes.map((n) => h("li", {}, n)))) : null,
          h("p", {}, h("button", { "data-action": "open", click: () => openTable(a.table) }, t("openTable"))),
          table(
            [t("colCode"), t("colName"), t("colType")],
            a.columns.map((col) => [h("code", {}, col.code), col.name, col.type]),
            { id: "upload-columns" },
          ),
        ] as (HTMLElement | null)[]
      ).filter((x): x is HTMLElement => x !== null),
    );
    await loadPortal();
    syncSlot.replaceChildren(syncButtons(a.table, out));
  };
  xhr.send(file);
}

// ---- health ----
interface Health {
  settings: Record<string, unknown>;
  problems: { code: string; detail?: string }[];
}
async function healthScreen(): Promise<HTMLElement> {
  const hl = await call<Health>("/app/api/health");
  const value = (v: unknown) =>
    v === true
      ? t("yes")
      : v === false
        ? t("no")
        : v === null || (Array.isArray(v) && v.length === 0)
          ? t("none")
          : typeof v === "string" || typeof v === "number"
            ? String(v)
            : JSON.stringify(v);
  const fix = (p: { code: string; detail?: string }) => {
    const key = `fix_${p.code}` as MessageKey;
    return p.code === "URL_HOST" ? t("fix_URL_HOST", { table: p.detail ?? "" }) : t(key);
  };
  return h(
    "section",
    { id: "health" },
    h("h2", {}, t("healthTitle")),
    hl.problems.length
      ? h("ul", { class: "problems" }, ...hl.problems.map((p) => h("li", { class: "error" }, fix(p))))
      : note("ok", t("healthOk")),
    table(
      [t("setting"), t("value")],
      Object.entries(hl.settings).map(([k, v]) => [h("code", {}, k), value(v)]),
    ),
  );
}

// ---- rendering ----
let renderToken = 0;
function render(): void {
  const mine = ++renderToken;
  const header = h("header", {}, h("h1", {}, t("title")), tabs());
  const place = (body: HTMLElement) => void (mine === renderToken && show(header, installEl, flash, body));
  const fail = (err: unknown) => place(note("error", t("failed", { message: (err as Error).message })));
  if (view === "tables") place(tablesScreen());
  else if (view === "upload") place(uploadScreen());
  else if (view === "health") {
    place(note("info", t("loading")));
    healthScreen().then(place, fail);
  } else {
    // Keep what is shown while the table loads again (a portal state arriving re-renders it).
    tableScreen(view.table).then(place, fail);
  }
}

/**
 * The first install's report. BX24.installFinish() reloads the frame into the
 * application, so it waits for the administrator's "Finish installation";
 * an install without its connector or source offers no Finish (the next open
 * tries again).
 */
function finishInstall(e: Event): void {
  (e.currentTarget as HTMLButtonElement).disabled = true;
  if (typeof BX24 !== "undefined") BX24.installFinish();
}

function installReport(install: NonNullable<Boot["install"]>): HTMLElement {
  const finish = install.failed
    ? h("p", {}, t("installRetry"))
    : h(
        "p",
        { class: "actions" },
        h("button", { class: "primary", "data-action": "install-finish", click: finishInstall }, t("installFinish")),
        " ",
        h("span", { class: "muted" }, t("installFinishHint")),
      );
  return h(
    "section",
    { id: "install", class: install.failed ? "error" : "ok" },
    h("h2", {}, t(install.failed ? "installFailedTitle" : "installedTitle")),
    h("p", {}, t("installIntro")),
    summaryList(install.lines),
    finish,
  );
}

function start(): void {
  if (boot.install) installEl = installReport(boot.install);
  refresh().catch((err) => show(note("error", t("failed", { message: (err as Error).message }))));
}

if (typeof BX24 !== "undefined") BX24.init(start);
else start();
