import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.ts';

/** The `prev_hash` of the first row of the chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The part of an audit row that the chain covers. */
export interface ChainedEvent {
  id: number;
  at: Date;
  actor: string;
  action: string;
  change_id: number | null;
  data: Record<string, unknown>;
}

/** `canonical_json({ id, at (ISO), actor, action, change_id, data })`: keys sorted, no whitespace. */
export function auditEventJson(e: ChainedEvent): string {
  return canonicalJson({ id: e.id, at: e.at.toISOString(), actor: e.actor, action: e.action, change_id: e.change_id, data: e.data });
}

/** `sha256(prev_hash || canonical_json(event))`, hex. */
export function chainHash(prevHash: string, e: ChainedEvent): string {
  return createHash('sha256').update(prevHash).update(auditEventJson(e)).digest('hex');
}

export interface StoredChainRow extends ChainedEvent {
  prev_hash: string | null;
  hash: string | null;
}

export interface ChainBreak {
  id: number;
  reason: string;
}

/**
 * Walks audit rows in id order and finds the first broken one. Feed it rows page by page with
 * `check`; `result` gives the totals. Pure: the caller reads the rows (in one snapshot).
 *
 * A row is broken when
 * - its `hash` is not `sha256(prev_hash || canonical_json(event))` (its contents were edited);
 * - its `prev_hash` is not the hash of the previous sealed row (a row before it was rewritten
 *   or deleted, or it was re-chained);
 * - it is not sealed although a later row is (it was written behind the sealed head: a late
 *   commit, or a row inserted with an old id).
 * Unsealed rows after the last sealed row are not broken: they are waiting for the sealer.
 */
export class ChainVerifier {
  /**
   * @param genesis the first row ever sealed (the `audit_genesis` record), or null when none was
   * recorded: the chain must start exactly there, so an emptied or rewritten log cannot verify.
   */
  constructor(private readonly genesis: { id: number; hash: string } | null = null) {}

  private prev: string = GENESIS_HASH;
  private prevId: number | null = null;
  private firstUnsealed: number | null = null;
  checked = 0;
  broken: ChainBreak | null = null;
  head: { id: number; hash: string } | null = null;

  /** Returns false once a broken row is found (stop reading). */
  check(rows: StoredChainRow[]): boolean {
    for (const r of rows) {
      if (this.broken) return false;
      if (r.hash === null) {
        this.firstUnsealed ??= r.id;
        continue;
      }
      if (this.firstUnsealed !== null) {
        this.broken = { id: this.firstUnsealed, reason: `row ${this.firstUnsealed} is not sealed but a later row (${r.id}) is: it was written behind the sealed head (a late commit, or a row inserted with an old id)` };
        return false;
      }
      if (this.prevId === null && !this.startsAtGenesis(r)) return false;
      this.checked++;
      if (r.prev_hash !== this.prev) {
        this.broken = {
          id: r.id,
          reason:
            this.prevId === null
              ? `prev_hash is not the genesis hash (64 zeros): rows before ${r.id} were deleted, or the row was re-chained`
              : `prev_hash does not match the hash of row ${this.prevId}: row ${this.prevId} was rewritten, or rows between ${this.prevId} and ${r.id} were deleted`,
        };
        return false;
      }
      if (chainHash(r.prev_hash, r) !== r.hash) {
        this.broken = { id: r.id, reason: 'hash does not match the row: its contents were changed after it was sealed' };
        return false;
      }
      this.prev = r.hash;
      this.prevId = r.id;
      this.head = { id: r.id, hash: r.hash };
    }
    return true;
  }

  /** Call after the last page: a genesis with no sealed row at all means the log was emptied. */
  finish(): ChainBreak | null {
    if (!this.broken && this.genesis && this.prevId === null) {
      this.broken = { id: this.genesis.id, reason: `the log began at row ${this.genesis.id} but no sealed row is left: the audit log was emptied` };
    }
    return this.broken;
  }

  private startsAtGenesis(r: StoredChainRow): boolean {
    if (!this.genesis) {
      this.broken = { id: r.id, reason: 'sealed rows exist but the genesis record (audit_genesis) is missing: the chain cannot be anchored' };
      return false;
    }
    if (r.id !== this.genesis.id || r.hash !== this.genesis.hash) {
      this.broken = {
        id: r.id,
        reason:
          r.id === this.genesis.id
            ? `row ${r.id} is not the row the log began with (its hash differs from the genesis record): the log was rewritten`
            : `the chain starts at row ${r.id}, but the log began at row ${this.genesis.id}: rows were deleted or the log was rewritten`,
      };
      return false;
    }
    return true;
  }
}
