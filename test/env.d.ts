// Bindings only the tests have (vitest.config.ts miniflare bindings); the
// Worker's own are generated into worker-configuration.d.ts.
declare namespace Cloudflare {
  interface Env {
    HELPER_ORIGIN: string;
  }
}
