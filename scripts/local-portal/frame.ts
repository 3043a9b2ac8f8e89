/**
 * The portal's browser side, as an application's frame sees it (PROTOCOL §6):
 * the page that opens the app in its iframe (a form POSTed into the frame)
 * and the BX24 library that talks to that page by postMessage.
 */
/**
 * The BX24 library as the app's frame sees it: it asks the portal page (its
 * parent) for the auth by postMessage, as the real library does.
 */
export const BX24_STUB = `(function () {
  var auth = null, seq = 0, waiting = {}, inited = false;
  window.addEventListener("message", function (e) {
    var m = e.data;
    if (!m || m.bx24 !== "auth") return;
    auth = m.auth;
    var cb = waiting[m.id];
    delete waiting[m.id];
    if (cb) cb(auth);
  });
  function ask(kind, cb) { var id = ++seq; waiting[id] = cb; parent.postMessage({ bx24: kind, id: id }, "*"); }
  window.BX24 = {
    init: function (cb) { if (inited) return cb(); ask("init", function () { inited = true; cb(); }); },
    installFinish: function () { parent.postMessage({ bx24: "installFinish" }, "*"); },
    getAuth: function () { return auth; },
    refreshAuth: function (cb) { ask("refreshAuth", cb); },
  };
})();`;

/** GET /frame?app=<handler URL>&token=&lang=: the portal's page that opens the app in its iframe. */
export function framePage(q: URLSearchParams): string {
  const app = q.get("app") ?? "";
  const token = q.get("token") ?? "good-access";
  const fields: Record<string, string> = {
    AUTH_ID: token,
    AUTH_EXPIRES: "3600",
    REFRESH_ID: "good-refresh",
    member_id: "member-1",
    DOMAIN: q.get("domain") ?? "",
    PROTOCOL: "0",
    LANG: q.get("lang") ?? "en",
    APP_SID: "sid-1",
    PLACEMENT: "DEFAULT",
    PLACEMENT_OPTIONS: "{}",
  };
  const attr = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const inputs = Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${attr(k)}" value="${attr(v)}">`).join("");
  return `<!doctype html><html><head><meta charset="utf-8"><title>Fake portal</title>
<style>body{margin:0;font:14px sans-serif;background:#eef2f4}header{height:40px;background:#2fc6f6;color:#fff;padding:10px 16px;box-sizing:border-box}iframe{border:0;width:100%;height:${Number(q.get("height") ?? 1000)}px;display:block}</style></head>
<body><header>Bitrix24 (fake portal) · Applications</header>
<form id="f" method="POST" action="${attr(app)}" target="app">${inputs}</form>
<iframe name="app" id="app"></iframe>
<script>
var current = { access_token: ${JSON.stringify(token)}, refresh_token: "good-refresh", expires_in: 3600, member_id: "member-1" };
window.addEventListener("message", async function (e) {
  var m = e.data;
  if (!m || !m.bx24) return;
  if (m.bx24 === "init") e.source.postMessage({ bx24: "auth", id: m.id, auth: current }, "*");
  if (m.bx24 === "installFinish") await fetch("/_bx24/installFinish", { method: "POST" });
  if (m.bx24 === "refreshAuth") {
    var r = await fetch("/_bx24/refresh?token=" + encodeURIComponent(current.access_token), { method: "POST" });
    current = await r.json();
    e.source.postMessage({ bx24: "auth", id: m.id, auth: current }, "*");
  }
});
document.getElementById("f").submit();
</script></body></html>`;
}
