import type { Config } from '../config/schema.ts';
import { enqueue } from '../db/repositories/outbox.ts';
import { incidentRef, outboxMessage, type OutboxMessage } from '../delivery/messages.ts';
import type { Incident } from '../domain/incident.ts';
import type { IncidentNotifier } from '../use-cases/ports.ts';
import { channelMessage, directMessage, threadReply } from './notifier.ts';
import { causeDm, causeThreadReply, suspectThreadReply, ungatedDeployAlert } from './views/incident-notices.ts';

const broadcast = (config: Config, incident: Incident, kind: 'incident_post' | 'incident_update'): OutboxMessage =>
  outboxMessage(kind, incidentRef(incident), config.slack.incidents_channel, { incident_id: incident.id });

/**
 * Incident side effects as outbox rows, in the caller's transaction. The broadcast is rendered at
 * delivery from current state (suspects included), so rows carry the incident id, never blocks:
 * every update shows the incident as it is when Slack is called.
 */
export function slackIncidentNotifier(config: Config): IncidentNotifier {
  return {
    async deploymentRecorded(tx, deployment, change, incidents, deployer) {
      const out: OutboxMessage[] = [];
      // In shadow mode ungated deploys are expected (counted in stats, not alerted).
      if ((deployment.ungated || deployment.freeze) && !deployment.shadow) {
        const alert = ungatedDeployAlert(deployment, change, deployer);
        out.push(channelMessage(config.slack.escalation_channel, alert, `ungated:${deployment.id}`));
      }
      for (const incident of incidents) out.push(broadcast(config, incident, 'incident_update'));
      await enqueue(tx, out);
    },
    async incidentDeclared(tx, incident, suspects) {
      await enqueue(tx, [
        broadcast(config, incident, 'incident_post'),
        ...suspects.map((s) => threadReply(config, { id: s.change_id, team: s.team }, suspectThreadReply(incident))),
      ]);
    },
    async incidentChanged(tx, incident) {
      await enqueue(tx, [broadcast(config, incident, 'incident_update')]);
    },
    async causeConfirmed(tx, incident, change, confirmedBy) {
      const approvers = [...new Set(change.sign_offs.filter((s) => s.round === change.round && s.decision === 'approved').map((s) => s.reviewer))];
      await enqueue(tx, [
        broadcast(config, incident, 'incident_update'),
        threadReply(config, change, causeThreadReply(incident, confirmedBy)),
        ...approvers.map((u) => directMessage(u, causeDm(incident, change, confirmedBy))),
      ]);
    },
  };
}
