import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from './db/client.ts';
import { outboxStats } from './db/repositories/outbox.ts';
import type { Observer } from './use-cases/ports.ts';

/** Prometheus metrics for one process, served at GET /metrics. */
export function createMetrics(database: Database) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'countersign_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const slackAck = new Histogram({
    name: 'countersign_slack_ack_seconds',
    help: 'Time to answer Slack (commands, interactions, events) on /slack/events',
    buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 3],
    registers: [registry],
  });
  const outboxFailures = new Counter({ name: 'countersign_outbox_failures_total', help: 'Failed outbox deliveries by kind and error class', labelNames: ['kind', 'error'] as const, registers: [registry] });
  const outboxDead = new Counter({ name: 'countersign_outbox_dead_total', help: 'Outbox rows given up after a permanent Slack error, by kind', labelNames: ['kind'] as const, registers: [registry] });
  const outboxDelivered = new Counter({ name: 'countersign_outbox_delivered_total', help: 'Delivered outbox rows by kind', labelNames: ['kind'] as const, registers: [registry] });
  const timeToSignOff = new Histogram({
    name: 'countersign_time_to_sign_off_seconds',
    help: 'From registration to approval',
    buckets: [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200],
    registers: [registry],
  });
  const escalationSteps = new Counter({ name: 'countersign_escalation_steps_total', help: 'Escalation steps fired', labelNames: ['step'] as const, registers: [registry] });

  // Gauges read from the database when Prometheus scrapes (shared truth across replicas).
  new Gauge({
    name: 'countersign_outbox_depth',
    help: 'Outbox rows not yet delivered',
    registers: [registry],
    async collect() {
      this.set((await outboxStats(database)).pending);
    },
  });
  new Gauge({
    name: 'countersign_outbox_oldest_age_seconds',
    help: 'Age of the oldest undelivered outbox row',
    registers: [registry],
    async collect() {
      this.set((await outboxStats(database)).oldest_pending_age_seconds);
    },
  });
  new Gauge({
    name: 'countersign_changes',
    help: 'Changes by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const rows = await database.rows<{ status: string; n: number }>(sql`select status::text as status, count(*)::int as n from changes group by status`);
      this.reset();
      for (const r of rows) this.set({ status: r.status }, r.n);
    },
  });
  new Gauge({
    name: 'countersign_incidents_open',
    help: 'Open incidents',
    registers: [registry],
    async collect() {
      const [r] = await database.rows<{ n: number }>(sql`select count(*)::int as n from incidents where status = 'open'`);
      this.set(r.n);
    },
  });

  return {
    registry,
    /** Records one HTTP request (the server calls it when the response finishes). */
    observeRequest(method: string, route: string, status: number, seconds: number) {
      httpDuration.observe({ method, route, status: String(status) }, seconds);
      if (route === '/slack') slackAck.observe(seconds);
    },
    /** For the outbox sender's onResult; `reason` is a bounded code (rate_limited, http_error, network, slack_error, other). */
    outboxResult(kind: string, outcome: string, reason?: string) {
      if (outcome === 'delivered') outboxDelivered.inc({ kind });
      else if (outcome === 'dead') outboxDead.inc({ kind });
      else if (outcome === 'failed' || outcome === 'rate_limited') outboxFailures.inc({ kind, error: reason ?? outcome });
    },
    /** What use cases report after commit: approvals (time to sign-off) and escalation steps. */
    observer: {
      approved(change) {
        timeToSignOff.observe(((change.decided_at ?? change.updated_at).getTime() - change.created_at.getTime()) / 1000);
      },
      escalationSteps(step, count) {
        if (count > 0) escalationSteps.inc({ step }, count);
      },
    } satisfies Observer,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
