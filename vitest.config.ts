import { readFile } from "node:fs/promises";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig, type Plugin } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

export const TEST_TOKEN = "test-token";

// A green run is quiet, so that a real warning stands out.
//
// 1. itty-router and saxes ship source maps whose sources point outside their package
//    (../src/…), and vite warns about each file. Its code is loaded without
//    the map (stack traces still name our own files).
function withoutBrokenSourcemaps(pkg: string): Plugin {
  const inPackage = new RegExp(`/node_modules/${pkg}/[^?]*\\.m?js$`);
  return {
    name: `without-sourcemap:${pkg}`,
    enforce: "pre",
    async load(id) {
      const file = id.split("?")[0];
      if (!inPackage.test(file)) return null;
      const code = await readFile(file, "utf8");
      return { code: code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"), map: null };
    },
  };
}

// 2. workerd logs some disconnections with a native stack, and the tests
//    cause them on purpose:
//    - "pump canceled": the Worker cancels an R2 body (a limit was reached, a
//      description read only its sample). The pool already drops the same
//      message for other cancellations ("operation canceled", see
//      @cloudflare/vitest-pool-workers ignoreMessages) but not this one;
//    - "read end of pipe was aborted" and, on the sending test's side,
//      "Network connection lost": the Worker refused an upload and cancelled
//      the rest of its body;
//    - "premature EOF in HTTP entity body": a test server lied about its
//      Content-Length (the cut-body tests).
//    Exactly these messages are dropped; everything else workerd says is shown.
const WORKERD_NOISE = [
  "disconnected: pump canceled",
  "disconnected: read end of pipe was aborted",
  "disconnected: premature EOF in HTTP entity body",
  "source = Uncaught (in promise); stack = Error: Network connection lost.",
];
// 3. The Worker's own log lines (src/log.ts: one JSON object per event) for
//    the refusals, uploads and compilations the tests cause on purpose;
//    test/setup/logs.test.ts reads them itself. An internal error still shows.
const WORKER_EVENT = /\{"event":"(?!internal_error")/;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  let dropNextStack = false;
  stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const text = String(chunk);
    const known = WORKERD_NOISE.some((m) => text.includes(m)) || WORKER_EVENT.test(text);
    const noise = known || (dropNextStack && /^stack: \S*workerd@/.test(text));
    dropNextStack = known && !text.includes("stack: ");
    return noise ? true : write(chunk, ...rest);
  }) as typeof stream.write;
}

// Modules that touch no Workers API (no env, no R2, no fetch to the Worker):
// they run in Node, sparing a workerd instance each. Modules that stream a
// lot stay in workerd, whose streams are native (Node's are far slower).
const NODE_UNITS = [
  "test/values/recognition.test.ts",
  "test/register/answers.test.ts",
  "test/catalog/describe.test.ts",
  "test/query/answer-bytes.test.ts",
];

// The files that take longest start first, whatever their project, so that
// the run does not end waiting on one of them (vitest would start a project's
// files after the previous project's, and, without a cache, larger files first).
const LONGEST_FIRST = [
  "test/compiled/differential.test.ts",
  "test/compiled/history.test.ts",
  "test/setup/app-browser.test.ts",
  "test/limits.test.ts",
  "test/setup/newcomer.test.ts",
  "test/setup/setup.test.ts",
  "test/setup/deploy.test.ts",
  "test/routes/endpoints.test.ts",
  "test/uploads/files.test.ts",
  "test/formats/reading.test.ts",
  "test/routes/hostile-requests.test.ts",
  "test/setup/upload-cli.test.ts",
];
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(name));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    const base = await super.sort(files);
    return base
      .map((f, i) => ({ f, i }))
      .sort((a, b) => a.f.project.config.sequence.groupOrder - b.f.project.config.sequence.groupOrder || rank(a.f) - rank(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}

export default defineConfig({
  test: {
    // vitest's default is one file at a time on two cores (cores − 1); the
    // tests mostly wait on workerd, Chromium and child processes, so three
    // files run at once, from all projects together.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        // The Worker's own tests, inside workerd.
        plugins: [
          withoutBrokenSourcemaps("itty-router"),
          withoutBrokenSourcemaps("saxes"),
          withoutBrokenSourcemaps("chardet"),
          cloudflareTest(({ inject }) => {
            const origin = inject("helperOrigin");
            return {
              wrangler: { configPath: "./wrangler.jsonc" },
              miniflare: {
                bindings: {
                  CONNECTOR_TOKEN: `old-token, ${TEST_TOKEN}`,
                  UPLOAD_TOKEN: "upload-token",
                  UPLOAD_KEEP_VERSIONS: "2",
                  // The helper's host:port: an entry without a port allows only the default port.
                  URL_ALLOWED_HOSTS: new URL(origin).host,
                  URL_FETCH_TIMEOUT_MS: "1000",
                  URL_MAX_BYTES: String(8 * 1024 * 1024),
                  HELPER_ORIGIN: origin,
                  URL_TABLES: JSON.stringify([
                    { code: "remote_sales", title: "Remote sales", url: `${origin}/files/remote.csv`, format: "csv" },
                    {
                      code: "remote_redirect",
                      title: "Redirect to allowed",
                      url: `${origin}/redirect/${encodeURIComponent(`${origin}/files/remote.csv`)}`,
                      format: "csv",
                    },
                    {
                      code: "remote_escape",
                      title: "Redirect elsewhere",
                      url: `${origin}/redirect/${encodeURIComponent("http://example.com/x.csv")}`,
                      format: "csv",
                    },
                    { code: "remote_broken", title: "Gone", url: `${origin}/status/500`, format: "csv" },
                    { code: "remote_p206", title: "Part of a file", url: `${origin}/p206`, format: "csv" },
                    { code: "remote_slow", title: "Slow", url: `${origin}/slow`, format: "csv" },
                    { code: "remote_endless", title: "Endless", url: `${origin}/endless/limit`, format: "csv" },
                    { code: "remote_endless_2", title: "Endless", url: `${origin}/endless/first-bytes`, format: "csv" },
                    { code: "remote_trickle", title: "Trickle", url: `${origin}/trickle/t1`, format: "csv" },
                    { code: "remote_slowstart", title: "Slow start", url: `${origin}/slowstart/s1`, format: "csv" },
                    { code: "remote_drip", title: "Drip", url: `${origin}/drip/d1`, format: "csv" },
                    { code: "remote_drip_2", title: "Drip", url: `${origin}/drip/d2`, format: "csv" },
                    { code: "remote_endless_3", title: "Endless", url: `${origin}/endless/size`, format: "csv" },
                    {
                      code: "remote_typed",
                      title: "Declared",
                      url: `${origin}/files/remote.csv`,
                      format: "csv",
                      schema: { columns: { amount: { type: "string" } } },
                    },
                    // test/source/url-answers.test.ts: one URL as two formats; content changing under one ETag; broken answers.
                    { code: "remote_same_csv", title: "Same URL as CSV", url: `${origin}/mutable/same`, format: "csv" },
                    { code: "remote_same_json", title: "Same URL as JSON", url: `${origin}/mutable/same`, format: "json" },
                    { code: "remote_flip", title: "Columns move, ETag stays", url: `${origin}/mutable/flip`, format: "csv" },
                    {
                      code: "remote_flip_json",
                      title: "JSON columns move, ETag stays",
                      url: `${origin}/mutable/flip-json`,
                      format: "json",
                    },
                    { code: "remote_html", title: "HTML page", url: `${origin}/html`, format: "csv" },
                    { code: "remote_html_json", title: "HTML page as JSON", url: `${origin}/html`, format: "json" },
                    { code: "remote_html_sniff", title: "HTML page typed as CSV", url: `${origin}/html-as-csv`, format: "csv" },
                    {
                      code: "remote_html_gz",
                      title: "HTML page for a gzip table",
                      url: `${origin}/html-as-csv`,
                      format: "csv",
                      gzip: true,
                    },
                    { code: "remote_image", title: "An image", url: `${origin}/image`, format: "csv" },
                    { code: "remote_short", title: "Content-Length lie", url: `${origin}/short/40`, format: "csv" },
                    { code: "remote_encoded", title: "Content-Encoding gzip", url: `${origin}/encoded`, format: "csv" },
                    {
                      code: "remote_short_big",
                      title: "Content-Length lie past the sample",
                      url: `${origin}/short/3000000`,
                      format: "csv",
                    },
                    // test/values/late-encoding.test.ts: an ASCII-first file whose cp1251 rows come late.
                    { code: "remote_late", title: "Late cp1251", url: `${origin}/mutable/late`, format: "csv" },
                    // test/source/url-errors.test.ts: broken redirects, credentials in addresses.
                    {
                      code: "remote_bad_location",
                      title: "Malformed Location",
                      url: `${origin}/redirect/${encodeURIComponent("http://127.0.0.1%3A18082/s.csv")}`,
                      format: "csv",
                    },
                    { code: "remote_empty_location", title: "Empty Location", url: `${origin}/redirect/`, format: "csv" },
                    {
                      code: "remote_creds_500",
                      title: "Credentials, HTTP 500",
                      url: origin.replace("//", "//user:s3cret@") + "/status/500",
                      format: "csv",
                    },
                    {
                      code: "remote_creds_redirect",
                      title: "Redirect to credentials",
                      url: `${origin}/redirect/${encodeURIComponent(origin.replace("//", "//u:pa55word@") + "/status/404")}`,
                      format: "csv",
                    },
                    {
                      code: "remote_creds_ok",
                      title: "Credentials, a file",
                      url: origin.replace("//", "//user:s3cret@") + "/files/remote.csv",
                      format: "csv",
                    },
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
          exclude: ["test/setup/**", ...NODE_UNITS],
          testTimeout: 60_000,
        },
      },
      {
        // Pure modules, in Node.
        test: {
          name: "unit",
          environment: "node",
          include: NODE_UNITS,
          testTimeout: 60_000,
        },
      },
      {
        // The setup script against a fake portal, in Node; the Worker runs in Miniflare.
        test: {
          name: "setup",
          environment: "node",
          include: ["test/setup/**/*.test.ts"],
          exclude: ["test/setup/pull-memory.test.ts"],
          testTimeout: 60_000,
        },
      },
      {
        // workerd's memory and CPU under slow and vanishing clients: measured
        // with nothing else running, after the other projects (groupOrder 1).
        test: {
          name: "pull-memory",
          environment: "node",
          include: ["test/setup/pull-memory.test.ts"],
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
        },
      },
    ],
  },
});
