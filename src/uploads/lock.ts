/**
 * Every write to a table — its file's PUT, its sidecar's PUT, a restore, a
 * DELETE — runs under one lock per table code, so two writes of one table
 * never interleave: a sidecar is never checked against a file that is being
 * replaced (nor a file against a sidecar being replaced), two new keys with
 * the same code (`sales.csv`, `Sales.csv`) cannot both pass the
 * TABLE_CODE_TAKEN check, and a DELETE cannot remove an upload that landed
 * between its check and its delete (R2 has no conditional delete).
 *
 * The lock is named by the key's base table code (lower case, the code
 * before collision suffixes), not by the key: every key that could take or
 * change that code shares it.
 *
 * Why a Durable Object and not an R2 lease object (`.locks/<code>` put with
 * `onlyIf`): a DO runs one request at a time and its synchronous SQLite KV
 * calls below have no await between reading and writing the lease, so
 * acquire/renew/release are atomic by construction, on Cloudflare and in
 * workerd locally alike (wrangler dev and vitest-pool-workers run the same
 * DO runtime). With R2 only writes are conditional (R2's "conditional
 * operations" docs: PutObject, CopyObject, Create/CompleteMultipartUpload;
 * no DeleteObject), and the Workers binding's `delete(keys)` takes no
 * condition at all: releasing or breaking an expired lease object needs a
 * delete, so a slow releaser could delete the next holder's lease and let
 * two writers in. The DO (SQLite-backed: it runs on the Free plan) has none
 * of that.
 *
 * The lease expires (LEASE_MS), so a request that crashed or whose isolate
 * died never blocks a table for long; a live upload renews it as its bytes
 * stream in (`renewIfDue`), and confirms it right before it makes anything
 * live (`confirm`). A lease that lapsed is still ours as long as no one else
 * took it (the record names us): then no other write of the table happened
 * in between, and renewing it is safe. If someone else took it, the write
 * stops with 409 and changes nothing.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config/config";
import { AppError } from "../errors";
import { logEvent } from "../log";
import { baseTableCode, sidecarTable } from "../rules/naming";

/** How long a lease lasts without renewal. */
export const LEASE_MS = 30_000;
/** A streaming upload renews its lease at most this often. */
const RENEW_EVERY_MS = 10_000;
const LEASE = "lease";

interface LeaseRecord {
  holder: string;
  expires: number;
}

export type Acquired = { ok: true } | { ok: false; retryInMs: number };

/** One lock per table code (idFromName of the code). Its state is one KV record in its SQLite storage. */
export class TableLock extends DurableObject<Env> {
  acquire(holder: string, leaseMs: number): Acquired {
    const now = Date.now();
    const held = this.ctx.storage.kv.get<LeaseRecord>(LEASE);
    if (held && held.holder !== holder && held.expires > now) return { ok: false, retryInMs: held.expires - now };
    this.ctx.storage.kv.put<LeaseRecord>(LEASE, { holder, expires: now + leaseMs });
    return { ok: true };
  }

  /** Extends the lease if it is still ours (even lapsed: nobody else took it since); false if another holder took it. */
  renew(holder: string, leaseMs: number): boolean {
    const held = this.ctx.storage.kv.get<LeaseRecord>(LEASE);
    if (!held || held.holder !== holder) return false;
    this.ctx.storage.kv.put<LeaseRecord>(LEASE, { holder, expires: Date.now() + leaseMs });
    return true;
  }

  release(holder: string): void {
    if (this.ctx.storage.kv.get<LeaseRecord>(LEASE)?.holder === holder) this.ctx.storage.kv.delete(LEASE);
  }
}

/** The lock's name for an object key: the base table code of the table file (a sidecar's is its table's). */
export function lockName(key: string): string {
  return baseTableCode(sidecarTable(key) ?? key);
}

/** A held lease, for the write running under it. */
export interface TableLease {
  /** The table code the lock is named by. */
  readonly code: string;
  /** Renews the lease when it is due (cheap to call per chunk); throws 409 if another write took the table. */
  renewIfDue(): Promise<void>;
  /** Renews the lease now; call right before making anything live. Throws 409 if another write took the table. */
  confirm(): Promise<void>;
}

function stub(env: Env, code: string): DurableObjectStub<TableLock> {
  const ns = env.TABLE_LOCK as DurableObjectNamespace<TableLock> | undefined;
  if (!ns)
    throw new AppError(
      "CONFIG_INVALID",
      "The TABLE_LOCK Durable Object binding is missing: wrangler.jsonc must bind the TableLock class as TABLE_LOCK (see its durable_objects there).",
    );
  return ns.get(ns.idFromName(code));
}

/**
 * Runs `write` holding the lock of `key`'s table code; answers 409
 * WRITE_IN_PROGRESS at once when another write of that table holds it.
 */
export async function withTableLock<T>(env: Env, key: string, write: (lease: TableLease) => Promise<T>, leaseMs = LEASE_MS): Promise<T> {
  const code = lockName(key);
  const lock = stub(env, code);
  const holder = crypto.randomUUID();
  const got = await lock.acquire(holder, leaseMs);
  if (!got.ok) {
    throw new AppError(
      "WRITE_IN_PROGRESS",
      `Another write of the table "${code}" (an upload, schema upload, restore or delete of one of its files) is in progress, so "${key}" was not changed. Retry in a few seconds (the other write's lease ends within ${Math.ceil(got.retryInMs / 1000)} s if it stalled).`,
    );
  }
  let renewed = Date.now();
  const confirm = async () => {
    if (!(await lock.renew(holder, leaseMs))) {
      throw new AppError(
        "UPLOAD_CONFLICT",
        `This write of "${key}" stalled for longer than its ${Math.round(leaseMs / 1000)} s lease and another write of the table "${code}" started meanwhile; nothing was changed by this request. Check GET /files/${key}/versions, then retry.`,
      );
    }
    renewed = Date.now();
  };
  const lease: TableLease = {
    code,
    confirm,
    async renewIfDue() {
      if (Date.now() - renewed >= Math.min(RENEW_EVERY_MS, leaseMs / 3)) await confirm();
    },
  };
  try {
    return await write(lease);
  } finally {
    // A release that fails only leaves the lease to expire.
    await lock.release(holder).catch((err: unknown) => logEvent("lock_release_failed", { error: (err as Error).name }, "error"));
  }
}
