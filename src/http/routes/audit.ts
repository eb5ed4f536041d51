import { z } from 'zod';
import { canonicalJson } from '../../domain/canonical.ts';
import { auditRange, exportAudit } from '../../use-cases/export-audit.ts';
import type { Deps } from '../../use-cases/ports.ts';
import { verifyAuditChain } from '../../use-cases/verify-audit-chain.ts';
import { toCsv } from '../csv.ts';
import { badRequest } from '../errors.ts';
import type { HttpServer } from '../server.ts';

const exportQuery = z.strictObject({
  from: z.string().optional(),
  to: z.string().optional(),
  format: z.enum(['json', 'csv'], { error: 'expected json or csv' }).default('json'),
});

const MAX_CSV_ACTOR = 100;

export const AUDIT_CSV_COLUMNS = ['id', 'at', 'actor', 'action', 'change_id', 'data', 'prev_hash', 'hash'] as const;

/**
 * `GET /api/audit?from=&to=&format=json|csv`: the audit log with its chain hashes, in id order.
 * `GET /api/audit/verify`: recomputes the chain; 200 when intact, 409 naming the first broken row.
 */
export function registerAuditRoutes(server: HttpServer, deps: Deps): void {
  server.route('GET', '/api/audit', async (ctx) => {
    const query = ctx.queryOf(exportQuery);
    const range = auditRange(deps, query);
    if (!range.ok) throw badRequest(range.issues ?? [], 'the query is invalid');
    const result = await exportAudit(deps, range.range);
    const events = result.events.map((e) => ({
      id: e.id,
      at: e.at.toISOString(),
      actor: e.actor,
      action: e.action,
      change_id: e.change_id,
      data: e.data,
      prev_hash: e.prev_hash,
      hash: e.hash,
    }));
    const headers: Record<string, string> = { 'x-countersign-truncated': String(result.truncated) };
    if (result.next_from !== null) headers['x-countersign-next-from'] = String(result.next_from);
    if (query.format === 'json') {
      return { status: 200, headers, body: { events, truncated: result.truncated, ...(result.next_from !== null && { next_from: result.next_from }) } };
    }
    // Free-text actors (a `by` a body claimed) are cut to 100 characters in the sheet; the JSON export keeps them whole.
    const rows: unknown[][] = [[...AUDIT_CSV_COLUMNS], ...events.map((e) => [e.id, e.at, e.actor.slice(0, MAX_CSV_ACTOR), e.action, e.change_id, canonicalJson(e.data), e.prev_hash, e.hash])];
    return {
      status: 200,
      headers: { ...headers, 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="countersign-audit.csv"' },
      text: toCsv(rows),
    };
  });

  server.route('GET', '/api/audit/verify', async () => {
    const result = await verifyAuditChain(deps);
    return { status: result.ok ? 200 : 409, body: result };
  });
}
