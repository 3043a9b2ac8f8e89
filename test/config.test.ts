// Every configuration variable goes through readConfig: a typo is CONFIG_INVALID
// naming the variable, never silently ignored, and never echoing the value.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Env, readConfig } from "../src/config/config";
import { AppError } from "../src/errors";

const base = { DATA: env.DATA } as Env;

function failure(over: Partial<Env>): AppError {
  try {
    readConfig({ ...base, ...over });
  } catch (err) {
    return err as AppError;
  }
  throw new Error("readConfig accepted the configuration");
}

describe("readConfig", () => {
  it.each([
    [{ UPLOAD_KEEP_VERSIONS: "five" }, "UPLOAD_KEEP_VERSIONS"],
    [{ UPLOAD_KEEP_VERSIONS: "-1" }, "UPLOAD_KEEP_VERSIONS"],
    [{ PORTAL_URL: "zq-hidden.bitrix24.com" }, "PORTAL_URL"],
    [{ PORTAL_URL: "ftp://zq-hidden.bitrix24.com" }, "PORTAL_URL"],
    [{ PORTAL_URL: "https://zq-hidden.bitrix24.com/rest/1/abc/" }, "PORTAL_URL"],
    // Plain http carries administrators' tokens in the clear: only an address on this machine may use it.
    [{ PORTAL_URL: "http://zq-hidden.bitrix24.com" }, "PORTAL_URL"],
    [{ WORKER_URL: "http://zq-hidden.workers.dev" }, "WORKER_URL"],
    [{ WORKER_URL: "zq-hidden.workers.dev" }, "WORKER_URL"],
    [{ BITRIX_CLIENT_ID: "local zq-hidden" }, "BITRIX_CLIENT_ID"],
    [{ URL_TABLES: "[{zq-hidden" }, "URL_TABLES"],
    [
      {
        URL_TABLES:
          '[{"code":"a","title":"t","url":"https://x.test/a.csv","format":"csv"},{"code":"a","title":"t","url":"https://x.test/zq-hidden.csv","format":"csv"}]',
      },
      "URL_TABLES",
    ],
    [{ URL_FETCH_TIMEOUT_MS: "soon" }, "URL_FETCH_TIMEOUT_MS"],
    [{ DEFAULT_DATE_FORMAT: "zq-hidden" }, "DEFAULT_DATE_FORMAT"],
  ] as [Partial<Env>, string][])("%o → CONFIG_INVALID naming %s, not its value", (over, variable) => {
    const err = failure(over);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("CONFIG_INVALID");
    expect(err.message).toContain(`variable ${variable} `);
    expect(err.message).not.toContain("zq-hidden");
  });

  it("reads every variable with its default", () => {
    const c = readConfig({
      ...base,
      CONNECTOR_TOKEN: " a, b ,",
      UPLOAD_TOKEN: "u1,u2",
      PORTAL_URL: "https://Portal.Example.com/",
      BITRIX_CLIENT_ID: "local.abc.123",
      WORKER_URL: "https://w.example.dev",
    });
    expect(c).toMatchObject({
      tokens: ["a", "b"],
      uploadTokens: ["u1", "u2"],
      keepVersions: 5,
      portal: { origin: "https://portal.example.com", host: "portal.example.com", clientId: "local.abc.123" },
      portalMissing: [],
      workerUrl: "https://w.example.dev",
    });
    expect(readConfig({ ...base, UPLOAD_KEEP_VERSIONS: "0" }).keepVersions).toBe(0);
    expect(readConfig({ ...base, PORTAL_URL: "https://p.example.com" })).toMatchObject({
      portal: null,
      portalMissing: ["BITRIX_CLIENT_ID"],
    });
  });
});

describe("configuration reaches /files", () => {
  it("UPLOAD_KEEP_VERSIONS=five is CONFIG_INVALID on /files, not silently 5", async () => {
    const { default: worker } = await import("../src/index");
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const res = await worker.fetch(
      new Request("https://c.test/files", { headers: { authorization: "Bearer upload-token" } }),
      { ...env, UPLOAD_KEEP_VERSIONS: "five" } as never,
      ctx,
    );
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("UPLOAD_KEEP_VERSIONS"),
    });
  });
});
