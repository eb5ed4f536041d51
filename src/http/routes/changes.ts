import { z } from 'zod';
import { CHANGE_STATUSES } from '../../domain/types.ts';
import { breakGlass, MAX_BREAKGLASS_REASON } from '../../use-cases/break-glass.ts';
import { cancelChange } from '../../use-cases/cancel-change.ts';
import { checkGate } from '../../use-cases/check-gate.ts';
import { getChange } from '../../use-cases/get-change.ts';
import { listChanges } from '../../use-cases/list-changes.ts';
import type { Deps } from '../../use-cases/ports.ts';
import { registerChange } from '../../use-cases/register-change.ts';
import { validateIntake } from '../../use-cases/decide-intake.ts';
import { badRequest, HttpError, notFound, refusalError } from '../errors.ts';
import { namesFrom, presentChange, presentFreeze } from '../present.ts';
import type { HttpServer } from '../server.ts';

const listQuery = z.strictObject({
  status: z.enum(CHANGE_STATUSES, { error: `expected one of ${CHANGE_STATUSES.join(', ')}` }).optional(),
  limit: z.string().regex(/^\d+$/, 'expected a number from 1 to 500').transform(Number).pipe(z.number().int().min(1, 'expected a number from 1 to 500').max(500, 'expected a number from 1 to 500')).default(50),
});

const artifactSha = z.string().trim().regex(/^[0-9a-f]{7,64}$/i, 'expected a hex SHA of at least 7 characters');
const gateQuery = z.strictObject({ sha: artifactSha.optional(), plan_sha256: artifactSha.optional() });

const breakglassBody = z.strictObject({
  by: z.string({ error: 'expected the Slack user id of the person breaking the glass' }).trim().min(1, 'expected the Slack user id of the person breaking the glass').max(100),
  reason: z.string({ error: 'a reason is required' }).trim().min(1, 'a reason is required').max(MAX_BREAKGLASS_REASON),
});

/** A free-text `by` (who the caller says acted) is cut to 100 characters; the audit also records the real caller (`via`). */
export const claimedBy = z.string().trim().min(1).max(2000).transform((s) => s.slice(0, 100));

const cancelBody = z.strictObject({ reason: z.string().trim().min(1).max(2000).optional(), by: claimedBy.optional() }).optional();

/** The change intake API, the deploy gate and cancellation. */
export function registerChangeRoutes(server: HttpServer, deps: Deps): void {
  const names = namesFrom(deps.config.engineers);
  server.route('POST', '/api/changes', async (ctx) => {
    const body = await ctx.json();
    if (body === undefined) throw badRequest([{ path: '(root)', message: 'expected a JSON object body' }]);
    // Every problem at once: the schema's, and what the config can tell about the fields that are well-formed.
    const checked = validateIntake(deps.config, body);
    if (!checked.ok) throw badRequest(checked.issues);
    const input = checked.input;
    const result = await registerChange(deps, input, ctx.caller, { via: ctx.via });
    if (!result.ok) throw refusalError(result);
    if (result.conflict) {
      throw new HttpError(409, {
        error: 'idempotency_conflict',
        key: result.change.key,
        message: `${input.source} + ${input.external_id} already registered ${result.change.key} with a different body; send a new external_id for a different change`,
      });
    }
    if (result.created) ctx.log.info({ key: result.change.key, risk: result.change.risk.level, status: result.change.status }, 'change registered');
    return { status: result.created ? 201 : 200, body: presentChange(result.change, undefined, names) };
  }, { maxBodyBytes: 'large' });

  server.route('GET', '/api/changes', async (ctx) => {
    const changes = await listChanges(deps, ctx.queryOf(listQuery));
    return { status: 200, body: { changes: changes.map((c) => presentChange(c, undefined, names)) } };
  });

  server.route('GET', '/api/changes/:key', async (ctx) => {
    const found = await getChange(deps, ctx.params.key);
    if (!found) throw notFound(`change ${ctx.params.key}`);
    return { status: 200, body: presentChange(found.change, found.history, names) };
  });

  server.route('GET', '/api/changes/:key/gate', async (ctx) => {
    const found = await checkGate(deps, ctx.params.key, ctx.queryOf(gateQuery));
    if (!found) throw notFound(`change ${ctx.params.key}`);
    const { change, gate } = found;
    const base = { key: change.key, status: change.status, allowed: gate.allowed, enforced: gate.enforced, would_allow: gate.would_allow };
    const freeze = gate.freeze && { freeze: presentFreeze(gate.freeze) };
    if (gate.freeze && gate.enforced) {
      const message = `${change.key} may not deploy to ${change.environment}: freeze ${gate.freeze.name} holds until ${gate.freeze.until.toISOString()} (${gate.freeze.reason}); break-glass is the audited way through`;
      return { status: 403, body: { error: 'frozen', ...base, ...freeze, message } };
    }
    if (gate.stale) {
      const s = gate.stale;
      const what = s.artifact === 'sha' ? 'commit' : 'terraform plan';
      const message = `${change.key} is ${change.status.replace('_', ' ')} for ${what} ${s.approved ?? '(none recorded)'}, not ${s.requested}: that artifact needs its own sign-off`;
      const artifacts = s.artifact === 'sha' ? { approved_sha: s.approved, requested_sha: s.requested } : { approved_plan_sha256: s.approved, requested_plan_sha256: s.requested };
      // In shadow mode the gate still opens (200), and says what enforce mode would have refused.
      return { status: gate.enforced ? 409 : 200, body: { ...(gate.enforced ? { error: 'stale_approval' } : { would_error: 'stale_approval' }), ...base, ...artifacts, message } };
    }
    return { status: gate.httpStatus, body: { ...base, ...(gate.reason && { reason: gate.reason }), ...freeze, head_sha: change.head_sha, plan_sha256: change.plan_sha256 } };
  });

  server.route('POST', '/api/changes/:key/breakglass', async (ctx) => {
    const body = await ctx.body(breakglassBody, { required: true });
    const result = await breakGlass(deps, { key: ctx.params.key, by: body.by, reason: body.reason, via: ctx.via });
    if (!result.ok) throw refusalError(result, `change ${ctx.params.key}`);
    ctx.log.warn({ key: result.change.key, by: body.by, caller: ctx.caller }, 'break-glass: gate opened without sign-off');
    return { status: 200, body: presentChange(result.change, undefined, names) };
  }, { scope: 'breakglass' });

  server.route('POST', '/api/changes/:key/cancel', async (ctx) => {
    const body = await ctx.body(cancelBody);
    const result = await cancelChange(deps, ctx.params.key, body?.by ?? ctx.caller, body?.reason, ctx.via);
    if (!result.ok) throw refusalError(result, `change ${ctx.params.key}`);
    return { status: 200, body: presentChange(result.change, undefined, names) };
  });
}
