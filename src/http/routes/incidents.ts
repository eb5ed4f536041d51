import { z } from 'zod';
import { DEPLOYMENT_STATUSES, SEVERITIES } from '../../domain/incident.ts';
import { confirmCause } from '../../use-cases/confirm-cause.ts';
import { declareIncident } from '../../use-cases/declare-incident.ts';
import { getIncident, listIncidents } from '../../use-cases/get-incident.ts';
import { alertmanagerPayload, handleAlertmanager } from '../../use-cases/handle-alertmanager.ts';
import type { Deps } from '../../use-cases/ports.ts';
import { recordDeployment } from '../../use-cases/record-deployment.ts';
import { resolveIncident } from '../../use-cases/resolve-incident.ts';
import { notFound, refusalError } from '../errors.ts';
import { claimedBy } from './changes.ts';
import { presentDeployment, presentIncident } from '../present-incidents.ts';
import type { HttpServer } from '../server.ts';

const isoDateTime = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time like 2026-11-02T10:00:00Z' }).transform((s) => new Date(s));
const serviceName = z.string().min(1).max(100);
const actor = claimedBy.refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');
// Postgres text cannot hold NUL characters; free text drops them, keys refuse them.
const dropNul = (s: string) => s.replace(/\u0000/g, '');
const noNul = (s: string) => !s.includes('\u0000');

const deploymentBody = z.strictObject({
  environment: z.string().transform(dropNul).pipe(z.string().trim().min(1, 'expected an environment like production').max(100)).transform((s) => s.toLowerCase()),
  service: serviceName.optional(),
  deployed_at: isoDateTime.optional(),
  status: z.enum(DEPLOYMENT_STATUSES, { error: `expected one of ${DEPLOYMENT_STATUSES.join(', ')}` }).default('succeeded'),
});

const incidentBody = z.strictObject({
  title: z.string().transform(dropNul).pipe(z.string().trim().min(1, 'expected a title').max(300)),
  severity: z.enum(SEVERITIES, { error: `expected one of ${SEVERITIES.join(', ')}` }),
  services: z.array(serviceName, { error: 'expected a list of service names (it may be empty)' }).max(50),
  started_at: isoDateTime.optional(),
  source: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,49}$/, 'expected a short lowercase name like pagerduty').optional(),
  external_id: z.string().min(1).max(500).refine(noNul, 'must not contain NUL characters').optional(),
});

const listQuery = z.strictObject({
  status: z.enum(['open', 'resolved'], { error: 'expected open or resolved' }).optional(),
  limit: z.string().regex(/^\d+$/, 'expected a number from 1 to 200').transform(Number).pipe(z.number().int().min(1, 'expected a number from 1 to 200').max(200, 'expected a number from 1 to 200')).default(50),
});

const resolveBody = z.strictObject({ by: actor.optional() }).optional();
const linkBody = z.strictObject({ change: z.string({ error: 'expected a change key like CHG-12' }).trim().min(1).max(40), by: actor.optional() });

/** Deployments, incidents and the Alertmanager webhook. */
export function registerIncidentRoutes(server: HttpServer, deps: Deps): void {
  server.route('POST', '/api/changes/:key/deployments', async (ctx) => {
    const body = await ctx.body(deploymentBody, { required: true });
    const result = await recordDeployment(deps, ctx.params.key, body, ctx.caller, ctx.via);
    if (!result.ok) throw refusalError(result, `change ${ctx.params.key}`);
    const d = result.deployment;
    ctx.log[d.ungated ? 'warn' : 'info']({ key: d.change_key, environment: d.environment, service: d.service, ungated: d.ungated }, 'deployment recorded');
    return { status: 201, body: presentDeployment(d) };
  }, { scope: 'deploy' });

  server.route('POST', '/api/incidents', async (ctx) => {
    const body = await ctx.body(incidentBody, { required: true });
    const source = body.source ?? 'api';
    const result = await declareIncident(deps, { ...body, source, external_id: body.external_id ?? null, declared_by: ctx.caller, via: ctx.via });
    if (!result.ok) throw refusalError(result);
    if (result.created) ctx.log.info({ key: result.view.incident.key, severity: body.severity, suspects: result.view.suspects.length }, 'incident declared');
    return { status: result.created ? 201 : 200, body: presentIncident(result.view) };
  });

  server.route('GET', '/api/incidents', async (ctx) => {
    const views = await listIncidents(deps, ctx.queryOf(listQuery));
    return { status: 200, body: { incidents: views.map(presentIncident) } };
  });

  server.route('GET', '/api/incidents/:key', async (ctx) => {
    const view = await getIncident(deps, ctx.params.key);
    if (!view) throw notFound(`incident ${ctx.params.key}`);
    return { status: 200, body: presentIncident(view) };
  });

  server.route('POST', '/api/incidents/:key/resolve', async (ctx) => {
    const body = await ctx.body(resolveBody);
    const result = await resolveIncident(deps, ctx.params.key, body?.by ?? ctx.caller, ctx.via);
    if (!result.ok) throw refusalError(result, `incident ${ctx.params.key}`);
    return { status: 200, body: presentIncident(result.view) };
  });

  server.route('POST', '/api/incidents/:key/links', async (ctx) => {
    const body = await ctx.body(linkBody, { required: true });
    const result = await confirmCause(deps, { incident: ctx.params.key, change: body.change, by: body.by ?? ctx.caller, via: ctx.via });
    if (!result.ok) throw refusalError(result, `incident ${ctx.params.key}`);
    return { status: result.created ? 201 : 200, body: presentIncident(result.view) };
  });

  // Alertmanager (webhook v4). Authenticated by bearer token like every /webhooks route (http_config.authorization).
  server.route('POST', '/webhooks/alertmanager', async (ctx) => {
    const body = await ctx.body(alertmanagerPayload, { required: true });
    const outcome = await handleAlertmanager(deps, body, ctx.via);
    ctx.log.info({ groupKey: body.groupKey.slice(0, 200), ...outcome }, 'alertmanager notification');
    return { status: 200, body: outcome };
  });

}
