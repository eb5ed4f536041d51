import { auditChainHead, gapStatus, recordAuditGenesis, sealAuditRows, tryLockAuditSealer, unsealedAuditRows } from '../db/repositories/audit.ts';
import { chainHash, GENESIS_HASH } from '../domain/audit-chain.ts';
import type { Deps } from './ports.ts';
import { runEvery, type PeriodicJob } from '../periodic.ts';

/**
 * Sealing the audit chain: `hash = sha256(prev_hash || canonical_json(event))`, in id order,
 * after commit (README, "Tamper-evident audit log").
 *
 * Audit ids come from a sequence and transactions commit in any order, so row 12 may be
 * visible while row 11 is still in flight. Sealing 12 first would leave 11 outside the chain
 * for ever. The sealer therefore only ever extends a **contiguous prefix**, walking the unsealed
 * rows in id order from the chain's head and stopping at the first row that is not safe yet:
 *
 * 1. **Sealing delay.** A row written less than `delayMs` (1 s) ago stops the pass: most
 *    transactions that took a smaller id commit within that time, so the next pass finds the
 *    prefix complete.
 * 2. **Gaps.** A missing id before a committed row belongs to a transaction that rolled back,
 *    or to one still open. The sealer waits until the row after the gap is `gapGraceMs` (5 s)
 *    old, then makes sure (`gapStatus`): whoever took a missing id took it before that row got
 *    its id, so it is among the transactions running now; the sealer waits briefly for all of
 *    them to end. If they did and the ids are still absent, they were rolled back: the gap is
 *    skipped for good. Otherwise it stops before the gap and tries again on the next pass.
 *
 * Both waits go by the row's `at` (the writer's clock); a row stamped more than the delay in the
 * future is not waited on, so a replica with a fast clock cannot hold the chain up.
 *
 * So a row never commits behind the head in normal operation. One that does anyway (written by
 * hand with an old id) stays unsealed, and `verify` reports it as broken.
 *
 * Replicas: each batch runs in one transaction holding `pg_try_advisory_xact_lock`; the head is
 * read under that lock, so two sealers never chain from the same row. A sealer that does not get
 * the lock skips its turn. (PGlite runs one transaction at a time; the lock is then a no-op.)
 */
export interface SealOptions {
  /** Rows younger than this are left for the next pass. Default 1000 ms. */
  delayMs?: number;
  /** A gap is probed only once the row after it is this old. Default 5000 ms. */
  gapGraceMs?: number;
  /** Rows per transaction. Default 1000. */
  batchSize?: number;
  /** Batches per call (bounded so one call cannot run for ever under a flood). Default 100. */
  maxBatches?: number;
}

export interface SealResult {
  /** Rows sealed by this call. */
  sealed: number;
  /** Another sealer held the lock: nothing was done. */
  busy: boolean;
  /** Why the last batch stopped before the end of the unsealed rows, with the row it stopped at. */
  stoppedAt: { id: number; reason: 'recent' | 'gap' | 'in_flight' } | null;
}

export const SEALING_DELAY_MS = 1_000;
export const GAP_GRACE_MS = 5_000;

interface BatchResult {
  sealed: number;
  busy: boolean;
  full: boolean;
  stoppedAt: SealResult['stoppedAt'];
}

async function sealBatch(deps: Deps, o: Required<SealOptions>): Promise<BatchResult> {
  return deps.database.db.transaction(async (tx) => {
    if (!(await tryLockAuditSealer(tx))) return { sealed: 0, busy: true, full: false, stoppedAt: null };
    const head = await auditChainHead(tx);
    const rows = await unsealedAuditRows(tx, head?.id ?? 0, o.batchSize);
    const now = deps.clock.now().getTime();
    let prev = head?.hash ?? GENESIS_HASH;
    let expected = (head?.id ?? 0) + 1;
    const sealed: { id: number; prevHash: string; hash: string }[] = [];
    let stoppedAt: SealResult['stoppedAt'] = null;
    // `at` comes from the writing process's clock. A row stamped well in the future (a replica whose
    // clock is ahead) is not waited on: the waits only save work, the gap check is what keeps the
    // prefix contiguous.
    const young = (at: Date, window: number) => {
      const age = now - at.getTime();
      return age < window && age > -o.delayMs;
    };
    for (const row of rows) {
      if (young(row.at, o.delayMs)) {
        stoppedAt = { id: row.id, reason: 'recent' };
        break;
      }
      if (row.id !== expected) {
        if (young(row.at, o.gapGraceMs)) {
          stoppedAt = { id: row.id, reason: 'gap' };
          break;
        }
        // PGlite runs one transaction at a time: nobody else can be holding the missing ids.
        const probe = deps.database.kind === 'pglite' ? 'free' : await gapStatus(tx, expected, row.id - 1);
        if (probe !== 'free') {
          stoppedAt = { id: row.id, reason: probe === 'in_flight' ? 'in_flight' : 'gap' };
          break;
        }
      }
      const hash = chainHash(prev, row);
      sealed.push({ id: row.id, prevHash: prev, hash });
      prev = hash;
      expected = row.id + 1;
    }
    await sealAuditRows(tx, sealed);
    // The very first seal anchors the chain: verify insists the log starts at this row.
    if (!head && sealed.length > 0) await recordAuditGenesis(tx, { id: sealed[0].id, hash: sealed[0].hash }, deps.clock.now());
    return { sealed: sealed.length, busy: false, full: stoppedAt === null && rows.length === o.batchSize, stoppedAt };
  });
}

/** Seals every audit row that is safe to seal now (see above), in batches. */
export async function sealAuditChain(deps: Deps, opts: SealOptions = {}): Promise<SealResult> {
  const o: Required<SealOptions> = { delayMs: SEALING_DELAY_MS, gapGraceMs: GAP_GRACE_MS, batchSize: 1000, maxBatches: 100, ...opts };
  let total = 0;
  for (let i = 0; i < o.maxBatches; i++) {
    const r = await sealBatch(deps, o);
    total += r.sealed;
    if (r.busy) return { sealed: total, busy: total === 0, stoppedAt: null };
    if (!r.full) return { sealed: total, busy: false, stoppedAt: r.stoppedAt };
  }
  return { sealed: total, busy: false, stoppedAt: null };
}

/** Runs the sealer every `everyMs` (2 s) in the app; `stop()` waits for a running pass. */
export class AuditSealer {
  private job: PeriodicJob | null = null;

  constructor(
    private readonly deps: Deps,
    private readonly opts: SealOptions & { everyMs?: number } = {},
  ) {}

  start(): void {
    // Failures (e.g. while the database restarts) are logged once per streak by runEvery.
    this.job ??= runEvery('audit sealer', this.opts.everyMs ?? 2_000, () => this.tick(), this.deps.logger);
  }

  /** One pass now (also what the loop runs). */
  async tick(): Promise<void> {
    const r = await sealAuditChain(this.deps, this.opts);
    if (r.sealed > 0) this.deps.logger.debug({ sealed: r.sealed, stoppedAt: r.stoppedAt }, 'audit rows sealed');
  }

  async stop(): Promise<void> {
    await this.job?.stop();
    this.job = null;
  }
}
