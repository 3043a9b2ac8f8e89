// `npm run deploy` against a stubbed wrangler (no network here): which
// commands it runs, in which order, with which values, and what it tells.
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const WORKER = "https://bitrix24-bi-files-connector.acme.workers.dev";

/** A wrangler that logs each call (argv and stdin) and answers as wrangler 4 prints. */
function stubWrangler(
  state: {
    loggedIn?: boolean;
    r2?: "enabled" | "disabled";
    bucket?: boolean;
    secrets?: string[];
    secretListWarning?: string;
    secretListFails?: boolean;
  } = {},
): { bin: string; calls: () => { args: string[]; stdin: string }[] } {
  const dir = mkdtempSync(join(tmpdir(), "wrangler-stub-"));
  const log = join(dir, "calls.jsonl");
  writeFileSync(log, "");
  const bin = join(dir, "wrangler");
  const s = { loggedIn: true, r2: "enabled", bucket: false, secrets: [], ...state };
  writeFileSync(
    bin,
    `#!/usr/bin/env node
const fs = require("node:fs");
const args = process.argv.slice(2);
const stdin = args[0] === "secret" && args[1] === "put" ? fs.readFileSync(0, "utf8") : "";
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args, stdin }) + "\\n");
const s = ${JSON.stringify(s)};
const cmd = args.slice(0, 3).join(" ");
if (args[0] === "whoami") {
  console.log(s.loggedIn ? "Getting User settings...\\n👋 You are logged in with an OAuth Token, associated with the email ann@example.com." : "Getting User settings...\\nYou are not authenticated. Please run \`wrangler login\`.");
} else if (cmd === "r2 bucket list") {
  if (s.r2 === "disabled") { console.error("✘ [ERROR] A request to the Cloudflare API failed.\\n  Please enable R2 through the Cloudflare Dashboard. [code: 10042]"); process.exit(1); }
  console.log("Listing buckets...\\n" + (s.bucket ? "name:           bi-connector-data\\ncreation_date:  2026-01-01T00:00:00.000Z" : ""));
} else if (cmd === "r2 bucket create") {
  console.log("Creating bucket '" + args[3] + "'...\\n✅ Created bucket '" + args[3] + "' with default storage class of Standard.");
} else if (args[0] === "deploy") {
  console.log("Total Upload: 512.00 KiB / gzip: 120.00 KiB\\nUploaded bitrix24-bi-files-connector (3.10 sec)\\nDeployed bitrix24-bi-files-connector triggers (0.90 sec)\\n  ${WORKER}\\n  schedule: */10 * * * *\\nCurrent Version ID: 00000000-0000-0000-0000-000000000000");
} else if (cmd === "secret list --format") {
  if (s.secretListFails) { console.error("✘ [ERROR] A request to the Cloudflare API failed. [code: 10013]"); process.exit(1); }
  if (s.secretListWarning) console.error(s.secretListWarning);
  console.log(JSON.stringify(s.secrets.map((name) => ({ name, type: "secret_text" }))));
} else if (cmd === "secret put " + args[2]) {
  console.log("🌀 Creating the secret for the Worker \\"bitrix24-bi-files-connector\\"\\n✨ Success! Uploaded secret " + args[2]);
} else { console.error("stub: unexpected " + args.join(" ")); process.exit(2); }
`,
  );
  chmodSync(bin, 0o755);
  return {
    bin,
    calls: () =>
      readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
  };
}

function deployWithInput(bin: string, args: string[], input: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(root, "scripts", "deploy.mjs"), ...args],
      { cwd: root, env: { ...process.env, CI: undefined, WORKERS_CI: undefined, WRANGLER: bin } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
    child.stdin!.end(input);
  });
}

function deploy(
  bin: string,
  args: string[] = [],
  env: Record<string, string | undefined> = { CI: undefined, WORKERS_CI: undefined },
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, "scripts", "deploy.mjs"), ...args],
      { cwd: root, env: { ...process.env, ...env, WRANGLER: bin } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

const commands = (calls: { args: string[] }[]) => calls.map((c) => c.args.join(" "));

describe("npm run deploy", () => {
  it("--dry-run prints every step and runs only the commands that read", async () => {
    const w = stubWrangler();
    const r = await deploy(w.bin, ["--dry-run", "--portal", "https://example.bitrix24.com"]);
    expect(r.code).toBe(0);
    expect(commands(w.calls())).toEqual(["whoami", "r2 bucket list", "secret list --format json"]);
    for (const step of [
      "would run: wrangler r2 bucket create bi-connector-data",
      "would run: wrangler deploy",
      "would run: wrangler secret put CONNECTOR_TOKEN",
      "would run: wrangler secret put UPLOAD_TOKEN",
      "would run: wrangler secret put PORTAL_URL",
    ]) {
      expect(r.out).toContain(step);
    }
    expect(r.out).toContain("Dry run: nothing will be changed.");
  });

  it("deploys from nothing: bucket, Worker, strong tokens, the learned address, and the portal form's values", async () => {
    const w = stubWrangler();
    const r = await deploy(w.bin);
    expect(r.code).toBe(0);
    const calls = w.calls();
    expect(commands(calls)).toEqual([
      "whoami",
      "r2 bucket list",
      "r2 bucket create bi-connector-data",
      "deploy",
      "secret list --format json",
      "secret put WORKER_URL",
      "secret put CONNECTOR_TOKEN",
      "secret put UPLOAD_TOKEN",
    ]);
    const put = (name: string) => calls.find((c) => c.args.join(" ") === `secret put ${name}`)!.stdin;
    expect(put("WORKER_URL")).toBe(WORKER);
    for (const name of ["CONNECTOR_TOKEN", "UPLOAD_TOKEN"]) expect(put(name)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(put("CONNECTOR_TOKEN")).not.toBe(put("UPLOAD_TOKEN"));
    expect(r.out).toContain(`handler path:             ${WORKER}/app`);
    expect(r.out).toContain(`initial installation path: ${WORKER}/install`);
    expect(r.out).toContain("permissions (scope):      biconnector");
    expect(r.out).toContain(`CONNECTOR_TOKEN was set to a new random value: ${put("CONNECTOR_TOKEN")}`);
  });

  it("in a build system (Workers Builds, CI) the tokens it makes up are set, never printed", async () => {
    const w = stubWrangler();
    const r = await deploy(w.bin, [], { CI: undefined, WORKERS_CI: "1" });
    expect(r.code).toBe(0);
    const values = w
      .calls()
      .filter((c) => c.args[0] === "secret" && c.args[1] === "put")
      .map((c) => c.stdin);
    expect(values.length).toBe(3);
    for (const v of values.slice(1)) expect(r.out).not.toContain(v);
    expect(r.out).toContain("CONNECTOR_TOKEN was set to a new random value (not printed here");
  });

  it("a second run keeps the existing bucket and secrets", async () => {
    const w = stubWrangler({ bucket: true, secrets: ["CONNECTOR_TOKEN", "UPLOAD_TOKEN", "WORKER_URL"] });
    const r = await deploy(w.bin);
    expect(r.code).toBe(0);
    expect(commands(w.calls())).toEqual(["whoami", "r2 bucket list", "deploy", "secret list --format json"]);
  });

  it("a warning wrangler writes next to the secret list does not make it replace the tokens the portal and the uploads use", async () => {
    const w = stubWrangler({
      bucket: true,
      secrets: ["CONNECTOR_TOKEN", "UPLOAD_TOKEN", "WORKER_URL"],
      secretListWarning: "▲ [WARNING] The version of Wrangler you are using is now out-of-date. [see https://developers.cloudflare.com]",
    });
    const r = await deploy(w.bin);
    expect(r.code).toBe(0);
    expect(commands(w.calls())).toEqual(["whoami", "r2 bucket list", "deploy", "secret list --format json"]);
  });

  it("a secret list that fails after the deploy stops rather than replacing the tokens", async () => {
    const w = stubWrangler({ bucket: true, secrets: ["CONNECTOR_TOKEN", "UPLOAD_TOKEN", "WORKER_URL"], secretListFails: true });
    const r = await deploy(w.bin);
    expect(r.code).toBe(1);
    expect(r.out).toContain("could not list the Worker's secrets");
    expect(commands(w.calls()).filter((c) => c.startsWith("secret put"))).toEqual([]);
  });

  it("a mistyped --set never echoes the value (it may be a token)", async () => {
    const w = stubWrangler();
    const r = await deploy(w.bin, ["--set", "CONECTOR_TOKEN=s3cr3t-value"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("--set takes NAME=value");
    expect(r.out).toContain("CONECTOR_TOKEN");
    expect(r.out).not.toContain("s3cr3t-value");
  });

  it("--set gives a setting afterwards without deploying", async () => {
    const w = stubWrangler({ bucket: true, secrets: ["CONNECTOR_TOKEN", "UPLOAD_TOKEN", "WORKER_URL"] });
    const r = await deploy(w.bin, [
      "--set",
      "BITRIX_CLIENT_ID=local.6751a3c2e4b7f1.48291735",
      "--set",
      "PORTAL_URL=https://example.bitrix24.com",
    ]);
    expect(r.code).toBe(0);
    expect(w.calls().map((c) => [c.args.join(" "), c.stdin])).toEqual([
      ["whoami", ""],
      ["secret list --format json", ""],
      ["secret put BITRIX_CLIENT_ID", "local.6751a3c2e4b7f1.48291735"],
      ["secret put PORTAL_URL", "https://example.bitrix24.com"],
    ]);
  });

  it("--set NAME=- reads the value from standard input, so a token never sits in argv or the shell's history", async () => {
    const w = stubWrangler({ bucket: true, secrets: ["CONNECTOR_TOKEN", "UPLOAD_TOKEN", "WORKER_URL"] });
    const r = await deployWithInput(w.bin, ["--set", "CONNECTOR_TOKEN=-"], "new-token-4417,old-token-2290\n");
    expect(r.code).toBe(0);
    expect(w.calls().map((c) => [c.args.join(" "), c.stdin])).toEqual([
      ["whoami", ""],
      ["secret list --format json", ""],
      ["secret put CONNECTOR_TOKEN", "new-token-4417,old-token-2290"],
    ]);
    expect(r.out).not.toContain("new-token-4417");
  });

  it.each([
    [{ loggedIn: false }, [], "npx wrangler login", ["whoami"]],
    [{ r2: "disabled" as const }, [], "R2 is not enabled", ["whoami", "r2 bucket list"]],
    [{}, ["--set", "TOKEN=x"], "--set takes NAME=value", []],
    [{}, ["--portal", "http://example.bitrix24.com/path"], "PORTAL_URL must be an https:// address", []],
  ])("stops with a clear message: %j %j", async (state, args, message, ran) => {
    const w = stubWrangler(state);
    const r = await deploy(w.bin, args);
    expect(r.code).toBe(1);
    expect(r.out).toContain(message);
    expect(commands(w.calls())).toEqual(ran);
  });
});
