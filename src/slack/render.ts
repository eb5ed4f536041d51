import type { Config } from '../config/schema.ts';
import type { Database } from '../db/client.ts';
import { findChange } from '../db/repositories/changes.ts';
import { cardChannel } from './notifier.ts';
import { findIncident } from '../db/repositories/incidents.ts';
import { incidentView } from '../use-cases/get-incident.ts';
import { buildIncidentBroadcast } from './views/incident-broadcast.ts';
import { buildChangeCard, type SlackMessage } from './views/change-card.ts';

/** Renders a message Countersign owns from current state, by its ref (`card:<change id>`, `incident:<incident id>`). */
export function messageRenderer(database: Database, config: Config) {
  return async (ref: string): Promise<{ channel: string; message: SlackMessage } | null> => {
    const inc = /^incident:(\d+)$/.exec(ref);
    if (inc) {
      const incident = await findIncident(database.db, Number(inc[1]));
      if (!incident) return null;
      return { channel: config.slack.incidents_channel, message: buildIncidentBroadcast(await incidentView(database.db, config, incident)) };
    }
    const m = /^card:(\d+)$/.exec(ref);
    if (!m) return null;
    const change = await findChange(database.db, Number(m[1]));
    if (!change) return null;
    return { channel: cardChannel(config, change), message: buildChangeCard(change, { areas: config.review.areas }) };
  };
}
