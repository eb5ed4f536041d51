import { auditChainHead, auditChainPage, auditGenesisRecord, unsealedAfterHead } from '../db/repositories/audit.ts';
import { ChainVerifier, type ChainBreak } from '../domain/audit-chain.ts';
import type { Deps } from './ports.ts';
import { sealAuditChain, SEALING_DELAY_MS } from './seal-audit-chain.ts';

export interface VerifyResult {
  ok: boolean;
  /** Sealed rows whose hash and link were recomputed (up to and including the first broken one). */
  checked: number;
  /** Rows after the chain's head not sealed yet (written in the last seconds, or waiting behind a gap). */
  unsealed: number;
  oldest_unsealed_at: string | null;
  /** The last sealed row: keep its hash somewhere else to detect a cut-off tail later. */
  head: { id: number; hash: string } | null;
  sealing_delay_ms: number;
  first_broken?: ChainBreak;
}

/**
 * Recomputes the whole chain in id order and reports the first broken row by its id.
 * A sealing pass runs first, so every row older than the sealing delay is covered (unless it
 * waits behind an uncommitted id); the check itself reads one consistent snapshot.
 */
export async function verifyAuditChain(deps: Deps, opts: { seal?: boolean; pageSize?: number } = {}): Promise<VerifyResult> {
  if (opts.seal !== false) {
    try {
      await sealAuditChain(deps);
    } catch (err) {
      deps.logger.warn({ err }, 'audit sealing before verify failed; verifying what is sealed');
    }
  }
  const pageSize = opts.pageSize ?? 5_000;
  return deps.database.db.transaction(
    async (tx) => {
      const verifier = new ChainVerifier(await auditGenesisRecord(tx));
      let after = 0;
      for (;;) {
        const page = await auditChainPage(tx, after, pageSize);
        if (page.length === 0 || !verifier.check(page)) break;
        after = page[page.length - 1].id;
        if (page.length < pageSize) break;
      }
      verifier.finish();
      const head = await auditChainHead(tx);
      const pending = await unsealedAfterHead(tx, head?.id ?? 0);
      return {
        ok: verifier.broken === null,
        checked: verifier.checked,
        unsealed: pending.count,
        oldest_unsealed_at: pending.oldestAt?.toISOString() ?? null,
        head,
        sealing_delay_ms: SEALING_DELAY_MS,
        ...(verifier.broken && { first_broken: verifier.broken }),
      };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}
