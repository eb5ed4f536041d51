import { randomUUID } from 'node:crypto';

/** A `POST /api/incidents` body; override any field. */
export function buildIncidentInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { title: 'Checkout returns 500s', severity: 'sev2', services: ['checkout'], ...overrides };
}

/** A `POST /api/changes/:key/deployments` body; override any field. */
export function buildDeploymentInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { environment: 'production', ...overrides };
}

export interface AlertOverrides {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  status?: string;
}

/**
 * A realistic Alertmanager webhook (version 4) notification for one group, as Alertmanager 0.27
 * sends it: one firing alert on checkout at severity critical. Labels of `alerts` default to the
 * common labels plus an instance.
 */
export function buildAlertmanagerPayload(overrides: { status?: 'firing' | 'resolved'; groupKey?: string; commonLabels?: Record<string, string>; groupLabels?: Record<string, string>; commonAnnotations?: Record<string, string>; alerts?: AlertOverrides[] } & Record<string, unknown> = {}): Record<string, unknown> {
  const status = overrides.status ?? 'firing';
  const commonLabels = overrides.commonLabels ?? { alertname: 'CheckoutErrors', service: 'checkout', severity: 'critical' };
  const commonAnnotations = overrides.commonAnnotations ?? { summary: 'Checkout returns 500s' };
  const alerts = (overrides.alerts ?? [{}]).map((a, i) => ({
    status: a.status ?? status,
    labels: a.labels ?? { ...commonLabels, instance: `checkout-${i + 1}:9090` },
    annotations: a.annotations ?? commonAnnotations,
    startsAt: a.startsAt ?? '2026-11-02T09:55:00.000Z',
    endsAt: status === 'resolved' ? '2026-11-02T10:30:00.000Z' : '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.example:9090/graph?g0.expr=rate%28http_requests_total%7Bcode%3D%22500%22%7D%5B5m%5D%29',
    fingerprint: randomUUID().replace(/-/g, '').slice(0, 16),
  }));
  return {
    receiver: 'countersign',
    status,
    alerts,
    groupLabels: overrides.groupLabels ?? { alertname: commonLabels.alertname ?? 'CheckoutErrors' },
    commonLabels,
    commonAnnotations,
    externalURL: 'http://alertmanager.example:9093',
    version: '4',
    groupKey: overrides.groupKey ?? '{}:{alertname="CheckoutErrors"}',
    truncatedAlerts: 0,
    ...Object.fromEntries(Object.entries(overrides).filter(([k]) => !['status', 'groupKey', 'commonLabels', 'groupLabels', 'commonAnnotations', 'alerts'].includes(k))),
  };
}
