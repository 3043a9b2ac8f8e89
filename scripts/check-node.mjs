#!/usr/bin/env node
// The toolchain's real Node minimum is 20.19: vitest 4 / vite 8 need it
// (node:util styleText), scripts use import.meta.dirname (20.11) and
// process.loadEnvFile (20.12). On anything older, say so instead of crashing.
// Imported first by scripts/dev.mjs, setup.ts and upload.ts; run by .ci/run.
export const MIN_NODE = [20, 19];

/** null when `version` ("20.10.0" or "v20.10.0") is new enough, else the message. */
export function nodeProblem(version) {
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return ok
    ? null
    : `Node ≥ ${MIN_NODE.join(".")} needed, you have ${version.replace(/^v/, "")}. Install a newer Node (e.g. from https://nodejs.org or with nvm) and run npm install again.`;
}

const problem = nodeProblem(process.env.CHECK_NODE_VERSION ?? process.versions.node);
if (problem) {
  console.error(problem);
  process.exit(1);
}
