/**
 * The tables a folder of files would become, described in Node with the
 * Worker's own code (naming, sidecars, inference): what the Worker would serve
 * once the files are in its bucket. Used by `npm run upload` (one file) and
 * by `npm run setup -- --dry-run` when the Worker cannot be reached.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { describedColumns, describeStream } from "../src/catalog/describe";
import type { WorkerApi } from "../src/register/register";
import { assignTableCodes, SIDECAR_SUFFIX, tableKeyInfo, tableTitle } from "../src/rules/naming";
import { parseSidecar } from "../src/rules/sidecar";
import { gunzip } from "../src/source/open";
import type { Bytes } from "../src/streams/bytes";
import { toStream } from "../src/streams/bytes";

export async function* fileBytes(path: string, range?: { offset: number; length: number }): Bytes {
  const bounds = range ? { start: range.offset, end: range.offset + range.length - 1 } : {};
  if (range?.length === 0) return;
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024, ...bounds })) yield new Uint8Array(chunk as Buffer);
}

/** Random access to a local file, as R2 range reads give it to formats that need it (XLSX). */
export function localFileAccess(path: string) {
  return {
    size: statSync(path).size,
    read: async (offset: number, length: number) => {
      const handle = await open(path);
      try {
        const buffer = new Uint8Array(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
    stream: (offset: number, length: number) => fileBytes(path, { offset, length }),
  };
}

function filesIn(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesIn(path) : [path];
  });
}

/** A WorkerApi over local files: keys are paths relative to `dir`, as `npm start` seeds them. */
export function localWorker(dir: string): WorkerApi {
  if (!existsSync(dir)) throw new Error(`there is no folder ${dir} to describe`);
  const paths = new Map<string, string>();
  for (const path of filesIn(dir)) {
    const key = relative(dir, path).split(sep).join("/");
    // As the Worker's listing: table extensions only, empty files left out.
    if (tableKeyInfo(key) && statSync(path).size > 0) paths.set(key, path);
  }
  const codes = assignTableCodes([...paths.keys()]);
  const byCode = new Map([...codes].map(([key, code]) => [code, key]));
  return {
    tables: async () => [...codes].map(([key, code]) => ({ code, title: tableTitle(key) })).sort((a, b) => a.code.localeCompare(b.code)),
    describe: async (code) => {
      const key = byCode.get(code)!;
      const path = paths.get(key)!;
      const info = tableKeyInfo(key)!;
      const sidecarPath = `${path}${SIDECAR_SUFFIX}`;
      const declared = existsSync(sidecarPath) ? parseSidecar(readFileSync(sidecarPath, "utf8"), `in ${sidecarPath}`) : undefined;
      const raw = fileBytes(path);
      const entry = { code, title: tableTitle(key), source: { kind: "r2" as const, key, ...info } };
      const { description, bytes } = await describeStream(
        entry,
        info.gzip ? gunzip(toStream(raw)) : raw,
        declared,
        info.gzip ? {} : localFileAccess(path),
      );
      await bytes.return(undefined);
      return describedColumns(description).map((c) => ({ code: c.code, name: c.name, type: c.type }));
    },
  };
}
