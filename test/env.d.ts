// Bindings the tests see (wrangler.toml plus vitest.config.ts miniflare bindings).
declare namespace Cloudflare {
  interface Env {
    DATA: R2Bucket;
    CONNECTOR_TOKEN: string;
    URL_TABLES: string;
    HELPER_ORIGIN: string;
    UPLOAD_TOKEN: string;
  }
}
