// The Worker's secrets, by name (never values): set with `npm run deploy` or
// `wrangler secret put NAME`, listed for people and the Deploy button in
// .dev.vars.example (`npm run check:types` holds the two lists equal).
// `wrangler types` sees only the secrets a local .dev.vars holds, so the
// generated Env (worker-configuration.d.ts) is completed here.
declare namespace Cloudflare {
  interface Env {
    CONNECTOR_TOKEN: string;
    UPLOAD_TOKEN: string;
    WORKER_URL: string;
    PORTAL_URL: string;
    BITRIX_CLIENT_ID: string;
  }
}
