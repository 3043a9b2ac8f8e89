import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export const TEST_TOKEN = "test-token";

export default defineConfig({
  test: {
    projects: [
      {
        // The Worker's own tests, inside workerd.
        plugins: [
          cloudflareTest(({ inject }) => {
            const origin = inject("helperOrigin");
            return {
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  CONNECTOR_TOKEN: `old-token, ${TEST_TOKEN}`,
                  UPLOAD_TOKEN: "upload-token",
                  UPLOAD_KEEP_VERSIONS: "2",
                  URL_ALLOWED_HOSTS: "127.0.0.1",
                  URL_FETCH_TIMEOUT_MS: "1000",
                  URL_MAX_BYTES: String(8 * 1024 * 1024),
                  HELPER_ORIGIN: origin,
                  URL_TABLES: JSON.stringify([
                    { code: "remote_sales", title: "Remote sales", url: `${origin}/files/remote.csv`, format: "csv" },
                    { code: "remote_redirect", title: "Redirect to allowed", url: `${origin}/redirect/${encodeURIComponent(`${origin}/files/remote.csv`)}`, format: "csv" },
                    { code: "remote_escape", title: "Redirect elsewhere", url: `${origin}/redirect/${encodeURIComponent("http://example.com/x.csv")}`, format: "csv" },
                    { code: "remote_broken", title: "Gone", url: `${origin}/status/500`, format: "csv" },
                    { code: "remote_slow", title: "Slow", url: `${origin}/slow`, format: "csv" },
                    { code: "remote_endless", title: "Endless", url: `${origin}/endless/limit`, format: "csv" },
                    { code: "remote_endless_2", title: "Endless", url: `${origin}/endless/first-bytes`, format: "csv" },
                    { code: "remote_trickle", title: "Trickle", url: `${origin}/trickle/t1`, format: "csv" },
                    { code: "remote_slowstart", title: "Slow start", url: `${origin}/slowstart/s1`, format: "csv" },
                    { code: "remote_drip", title: "Drip", url: `${origin}/drip/d1`, format: "csv" },
                    { code: "remote_endless_3", title: "Endless", url: `${origin}/endless/size`, format: "csv" },
                    { code: "remote_typed", title: "Declared", url: `${origin}/files/remote.csv`, format: "csv", schema: { columns: { amount: { type: "string" } } } },
                  ]),
                },
              },
            };
          }),
        ],
        test: {
          name: "worker",
          globalSetup: ["./test/global-setup.ts"],
          include: ["test/**/*.test.ts"],
          exclude: ["test/setup/**"],
          testTimeout: 60_000,
        },
      },
      {
        // The setup script against a fake portal, in Node; the Worker runs in Miniflare.
        test: {
          name: "setup",
          environment: "node",
          include: ["test/setup/**/*.test.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
