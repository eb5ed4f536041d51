import { appendAudit } from '../db/repositories/audit.ts';
import { findChange } from '../db/repositories/changes.ts';
import { insertCause, updateIncident } from '../db/repositories/incidents.ts';
import { parseChangeKey } from '../domain/change.ts';
import type { IncidentView } from '../domain/incident.ts';
import { findIncidentByKey, incidentView } from './get-incident.ts';
import type { Deps } from './ports.ts';
import { refuse, type Refusal } from '../domain/errors.ts';
import { markReceiptProcessed } from '../db/repositories/inbox.ts';

export type ConfirmCauseResult =
  | { ok: true; created: boolean; view: IncidentView }
  | Refusal;

/**
 * Confirms a change as a cause of an incident (by anyone: a person in the incident channel, or an
 * API caller). Stored in incident_causes once per change, audited; the broadcast is updated in
 * place, the change's card thread says so, and each approver of the change gets a DM.
 * Confirming the same change again changes nothing.
 */
export async function confirmCause(deps: Deps, cmd: { incident: string; change: string; by: string; via?: string; receipt?: number }): Promise<ConfirmCauseResult> {
  const changeId = parseChangeKey(cmd.change);
  return deps.database.db.transaction(async (tx) => {
    // A click's receipt is processed with its outcome, whatever it is.
    if (cmd.receipt) await markReceiptProcessed(tx, cmd.receipt);
    // The incident row lock serialises confirmations of one incident (and its resolution).
    const incident = await findIncidentByKey(tx, cmd.incident, { forUpdate: true });
    if (!incident) return refuse('not_found', `There is no incident ${cmd.incident}.`);
    const change = changeId === null ? null : await findChange(tx, changeId);
    if (!change) return refuse('change_not_found', `There is no change ${cmd.change}.`);
    const now = deps.clock.now();
    const created = await insertCause(tx, incident.id, change.id, cmd.by, now);
    let after = incident;
    if (created) {
      after = await updateIncident(tx, incident.id, { updatedAt: now });
      await appendAudit(tx, now, [{ actor: cmd.by, via: cmd.via, action: 'cause_confirmed', changeId: change.id, data: { incident: incident.key, change: change.key } }]);
      await deps.incidents.causeConfirmed(tx, after, change, cmd.by);
    }
    return { ok: true as const, created, view: await incidentView(tx, deps.config, after) };
  });
}
