import { findChange } from '../db/repositories/changes.ts';
import { findIncident } from '../db/repositories/incidents.ts';
import { parseChangeKey } from '../domain/change.ts';
import { cardRef, type OwnedRef } from '../delivery/messages.ts';
import { permalinksOf } from '../db/repositories/outbox.ts';
import { gateContext } from '../use-cases/check-gate.ts';
import { incidentView } from '../use-cases/get-incident.ts';
import type { Deps } from '../use-cases/ports.ts';
import { cardChannel } from './notifier.ts';
import { buildChangeCard, type SlackMessage } from './views/change-card.ts';
import { buildIncidentBroadcast } from './views/incident-broadcast.ts';

/**
 * Renders a message Countersign owns (a change's card, an incident's broadcast) from current state:
 * the database, the config (shadow mode) and the clock (a freeze holding now).
 */
export function messageRenderer(deps: Pick<Deps, 'database' | 'config' | 'clock'>) {
  const { database, config } = deps;
  return async (ref: OwnedRef): Promise<{ channel: string; message: SlackMessage } | null> => {
    if (ref.kind === 'incident') {
      const incident = await findIncident(database.db, ref.id);
      if (!incident) return null;
      const view = await incidentView(database.db, config, incident);
      // Each suspect and cause links to its card, once the card is posted.
      const refOfKey = new Map([...view.suspects.map((s) => s.change), ...view.causes.map((c) => c.change)].map((k) => [k, cardRef({ id: parseChangeKey(k) ?? 0 })]));
      const byRef = await permalinksOf(database.db, [...refOfKey.values()]);
      const links = new Map([...refOfKey].flatMap(([key, ref]) => (byRef.has(ref) ? [[key, byRef.get(ref)!] as const] : [])));
      return { channel: config.slack.incidents_channel, message: buildIncidentBroadcast(view, links) };
    }
    const change = await findChange(database.db, ref.id);
    if (!change) return null;
    return { channel: cardChannel(config, change), message: buildChangeCard(change, { areas: config.review.areas, gate: gateContext(deps, change) }) };
  };
}
