import type { Config } from '../config/schema.ts';
import { enqueue, type OutboxMessage } from '../db/repositories/outbox.ts';
import type { Incident } from '../domain/incident.ts';
import type { IncidentNotifier } from '../use-cases/ports.ts';
import { directMessage, OutboxKind, threadReply } from './notifier.ts';
import { causeDm, causeThreadReply, suspectThreadReply, ungatedDeployAlert } from './views/incident-notices.ts';

export const incidentRef = (incident: Pick<Incident, 'id'>) => `incident:${incident.id}`;

const broadcast = (config: Config, incident: Incident, kind: 'incident_post' | 'incident_update'): OutboxMessage => ({
  kind,
  groupKey: incidentRef(incident),
  channel: config.slack.incidents_channel,
  payload: { incident_id: incident.id },
});

/**
 * Incident side effects as outbox rows, in the caller's transaction. The broadcast is rendered at
 * delivery from current state (suspects included), so rows carry the incident id, never blocks:
 * every update shows the incident as it is when Slack is called.
 */
export function slackIncidentNotifier(config: Config): IncidentNotifier {
  return {
    async deploymentRecorded(tx, deployment, change, incidents, deployer) {
      const out: OutboxMessage[] = [];
      if (deployment.ungated) {
        const alert = ungatedDeployAlert(deployment, change, deployer);
        out.push({ kind: OutboxKind.message, groupKey: `ungated:${deployment.id}`, channel: config.slack.escalation_channel, payload: { text: alert.text, blocks: alert.blocks } });
      }
      for (const incident of incidents) out.push(broadcast(config, incident, OutboxKind.incidentUpdate));
      await enqueue(tx, out);
    },
    async incidentDeclared(tx, incident, suspects) {
      await enqueue(tx, [
        broadcast(config, incident, OutboxKind.incidentPost),
        ...suspects.map((s) => threadReply(config, { id: s.change_id, team: s.team }, suspectThreadReply(incident))),
      ]);
    },
    async incidentChanged(tx, incident) {
      await enqueue(tx, [broadcast(config, incident, OutboxKind.incidentUpdate)]);
    },
    async causeConfirmed(tx, incident, change, confirmedBy) {
      const approvers = [...new Set(change.sign_offs.filter((s) => s.round === change.round && s.decision === 'approved').map((s) => s.reviewer))];
      await enqueue(tx, [
        broadcast(config, incident, OutboxKind.incidentUpdate),
        threadReply(config, change, causeThreadReply(incident, confirmedBy)),
        ...approvers.map((u) => directMessage(u, causeDm(incident, change, confirmedBy))),
      ]);
    },
  };
}
