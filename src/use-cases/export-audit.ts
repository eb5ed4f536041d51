import { invalid, type FieldIssue, type Refusal } from '../domain/errors.ts';
import { auditRowsInRange, type AuditRange } from '../db/repositories/audit.ts';
import type { StoredChainRow } from '../domain/audit-chain.ts';
import type { Deps } from './ports.ts';

export const AUDIT_EXPORT_MAX_ROWS = 50_000;
const DAY_MS = 86_400_000;

type Bound = { id: number } | { at: Date };

/** `from`/`to`: digits are an audit id, anything else must be an ISO 8601 time (`2026-11-02`, `2026-11-02T10:00:00Z`). */
export function parseAuditBound(text: string): Bound | null {
  // An unencoded `+01:00` offset arrives as ` 01:00` (a `+` in a query string is a space).
  const t = text.trim().replace(/(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?) (\d{2}:?\d{2})$/, '$1+$4');
  if (/^\d{1,15}$/.test(t)) return { id: Number(t) };
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) return null;
  const at = new Date(t);
  return Number.isNaN(at.getTime()) ? null : { at };
}

export type AuditQuery = { ok: true; range: AuditRange } | Refusal;

/**
 * The export range: `from` inclusive, `to` exclusive, each an audit id or a time. Without `from`,
 * the 24 hours before `to` (when `to` is a time) or before now.
 */
export function auditRange(deps: Pick<Deps, 'clock'>, query: { from?: string | null; to?: string | null }, limit = AUDIT_EXPORT_MAX_ROWS): AuditQuery {
  const issues: FieldIssue[] = [];
  const from = query.from ? parseAuditBound(query.from) : undefined;
  const to = query.to ? parseAuditBound(query.to) : undefined;
  if (from === null) issues.push({ path: 'from', message: 'expected an audit id (digits) or an ISO 8601 time, e.g. 2026-11-02T10:00:00Z' });
  if (to === null) issues.push({ path: 'to', message: 'expected an audit id (digits) or an ISO 8601 time, e.g. 2026-11-02T10:00:00Z' });
  if (issues.length) return invalid(issues);
  const lower: Bound = from ?? { at: new Date((to && 'at' in to ? to.at.getTime() : deps.clock.now().getTime()) - DAY_MS) };
  return { ok: true, range: { from: lower, to: to ?? undefined, limit } };
}

export interface AuditExport {
  events: StoredChainRow[];
  /** More rows matched than the cap; continue with `from = next_from`. */
  truncated: boolean;
  next_from: number | null;
}

/** Audit rows in id order, capped at `range.limit`. */
export async function exportAudit(deps: Deps, range: AuditRange): Promise<AuditExport> {
  const rows = await auditRowsInRange(deps.database.db, { ...range, limit: range.limit + 1 });
  const truncated = rows.length > range.limit;
  const events = truncated ? rows.slice(0, range.limit) : rows;
  return { events, truncated, next_from: truncated ? events[events.length - 1].id + 1 : null };
}
