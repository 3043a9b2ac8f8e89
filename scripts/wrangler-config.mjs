// The values the scripts, tests and benchmark take from wrangler.jsonc (its
// one home): the compatibility date and flags, and the bucket name.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "jsonc-parser";

export const WRANGLER_CONFIG = join(import.meta.dirname, "..", "wrangler.jsonc");
const config = parse(readFileSync(WRANGLER_CONFIG, "utf8"));

export const COMPATIBILITY_DATE = config.compatibility_date;
export const COMPATIBILITY_FLAGS = config.compatibility_flags ?? [];
export const BUCKET_NAME = config.r2_buckets[0].bucket_name;
