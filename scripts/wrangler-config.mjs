// The values the scripts, tests and benchmark take from wrangler.toml (its
// one home): the compatibility date and the bucket name. Read as text: the
// keys are plain `key = "value"` lines.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const toml = readFileSync(join(import.meta.dirname, "..", "wrangler.toml"), "utf8");

function value(key) {
  const m = new RegExp(`^${key}\\s*=\\s*"([^"]+)"`, "m").exec(toml);
  if (!m) throw new Error(`wrangler.toml has no ${key}`);
  return m[1];
}

export const COMPATIBILITY_DATE = value("compatibility_date");
export const BUCKET_NAME = value("bucket_name");
