import { and, asc, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { auditEvents } from '../schema.ts';

export interface AuditEvent {
  actor: string;
  action: string;
  changeId?: number | null;
  data?: Record<string, unknown>;
}

/** Appends audit events; call it inside the transaction that makes the change it records. */
export async function appendAudit(db: DbOrTx, at: Date, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.insert(auditEvents).values(events.map((e) => ({ at, actor: e.actor, action: e.action, changeId: e.changeId ?? null, data: e.data ?? {} })));
}

export interface HistoryEntry {
  at: Date;
  actor: string;
  action: string;
  data: Record<string, unknown>;
}

/** A change's audit trail, oldest first, optionally only some actions. */
export async function historyOf(db: DbOrTx, changeId: number, actions?: string[]): Promise<HistoryEntry[]> {
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.changeId, changeId), actions ? inArray(auditEvents.action, actions) : undefined))
    .orderBy(asc(auditEvents.id));
  return rows.map((r) => ({ at: r.at, actor: r.actor, action: r.action, data: r.data }));
}
