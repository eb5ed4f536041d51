import { verify } from '@octokit/webhooks-methods';
import { fieldIssues } from '../../config/issues.ts';
import type { z } from 'zod';
import { handlePullRequest, pullRequestEvent } from '../../use-cases/handle-github-event.ts';
import { deploymentStatusEvent, handleDeploymentStatus, handleProtectionRule, protectionRuleEvent } from '../../use-cases/handle-github-deployment.ts';
import type { Deps } from '../../use-cases/ports.ts';
import { badRequest, HttpError } from '../errors.ts';
import type { HttpServer } from '../server.ts';
import { claimDelivery, releaseDelivery } from '../../db/repositories/webhook-deliveries.ts';

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * `POST /webhooks/github`: GitHub's webhook. Authenticated by its `X-Hub-Signature-256` alone
 * (HMAC-SHA256 of the raw body with GITHUB_WEBHOOK_SECRET, checked in constant time), because
 * GitHub cannot send a bearer token. Without a configured secret it answers 503 and reads nothing.
 */
export function registerGithubRoutes(server: HttpServer, deps: Deps, opts: { secret: string | undefined; app?: { apiUrl: string } | null; nudge?: () => void }): void {
  if (!opts.secret && deps.config.github.repos.length > 0) {
    deps.logger.warn({ repos: deps.config.github.repos.map((r) => r.repo) }, 'github.repos is configured but GITHUB_WEBHOOK_SECRET is not: POST /webhooks/github answers 503');
  }
  server.route(
    'POST',
    '/webhooks/github',
    async (ctx) => {
      if (!opts.secret) {
        throw new HttpError(503, { error: 'github_webhook_not_configured', message: 'GITHUB_WEBHOOK_SECRET is not set on this server: set it to the secret of the GitHub webhook to receive events' });
      }
      const raw = await ctx.raw();
      const signature = header(ctx.req.headers['x-hub-signature-256']);
      const body = raw.toString('utf8');
      // A body that is not UTF-8 cannot match after decoding: it fails the check like any forgery.
      const valid = Boolean(signature && body) && (await verify(opts.secret, body, signature!).catch(() => false));
      if (!valid) {
        ctx.log.warn({ delivery: header(ctx.req.headers['x-github-delivery'])?.slice(0, 100), signed: Boolean(signature) }, 'github webhook: bad or missing signature');
        throw new HttpError(401, { error: 'invalid_signature', message: 'X-Hub-Signature-256 is missing or does not match the body signed with GITHUB_WEBHOOK_SECRET' });
      }
      const event = header(ctx.req.headers['x-github-event']) ?? '';
      const delivery = header(ctx.req.headers['x-github-delivery'])?.slice(0, 100);
      if (event === 'ping') return { status: 200, body: { event, outcome: 'pong' } };
      const payload = () => parsePayload(body, header(ctx.req.headers['content-type']));
      // A delivery applied before (a replay, or GitHub's "Redeliver") is answered, not applied again.
      // Its id is claimed before applying (one atomic insert), so copies arriving together apply once;
      // a delivery that is refused or fails gives its id back, so GitHub's redelivery is applied.
      const firstDelivery = async () => !delivery || (await claimDelivery(deps.database.db, 'github', delivery, deps.clock.now()));
      const duplicate = () => {
        ctx.log.info({ event: event.slice(0, 100), delivery }, 'github webhook: duplicate delivery');
        return { status: 200, body: { event, outcome: 'duplicate_delivery', delivery } };
      };
      const applying = async <R>(apply: () => Promise<R>): Promise<R> => {
        try {
          const answer = await apply();
          opts.nudge?.();
          return answer;
        } catch (err) {
          if (delivery) await releaseDelivery(deps.database.db, 'github', delivery).catch(() => {});
          throw err;
        }
      };
      if (event === 'deployment_protection_rule' || event === 'deployment_status') {
        if (!opts.app) return { status: 202, body: { event, outcome: 'ignored', reason: `${event} needs the GitHub App (GITHUB_APP_ID)` } };
        const app = opts.app;
        if (!(await firstDelivery())) return duplicate();
        return applying(async () => {
          const result =
            event === 'deployment_protection_rule'
              ? await handleProtectionRule(deps, parseEvent(protectionRuleEvent, payload(), event), app.apiUrl)
              : await handleDeploymentStatus(deps, parseEvent(deploymentStatusEvent, payload(), event));
          ctx.log.info({ event, delivery, ...result }, 'github webhook');
          return { status: result.outcome === 'ignored' ? 202 : 200, body: { event, ...result } };
        });
      }
      if (event !== 'pull_request') {
        ctx.log.info({ event: event.slice(0, 100), delivery }, 'github webhook: event ignored');
        return { status: 202, body: { event, outcome: 'ignored', reason: 'only pull_request, deployment_protection_rule and deployment_status events are used' } };
      }
      if (!(await firstDelivery())) return duplicate();
      return applying(async () => {
        const parsed = parseEvent(pullRequestEvent, payload(), event);
        const result = await handlePullRequest(deps, parsed, { appConfigured: Boolean(opts.app) });
        if (result.outcome === 'invalid') throw badRequest(result.issues, 'the pull request cannot be registered');
        ctx.log.info({ event, action: parsed.action, delivery, repo: parsed.repository.full_name, pr: parsed.pull_request.number, ...result }, 'github webhook');
        const status = result.outcome === 'registered' ? 201 : result.outcome === 'ignored' ? 202 : 200;
        return { status, body: { event, action: parsed.action, ...result } };
      });
    },
    // GitHub caps webhook payloads at 25 MB.
    { auth: false, maxBodyBytes: 25 * 1024 * 1024 },
  );
}

/** A signed event's payload validated by `schema` (400 naming the fields GitHub would never send). */
function parseEvent<T>(schema: z.ZodType<T>, value: unknown, event: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw badRequest(fieldIssues(parsed.error), `the ${event} event is not readable`);
  return parsed.data;
}

/** The event JSON: the body itself (content type application/json), or its `payload` field (application/x-www-form-urlencoded). */
function parsePayload(body: string, contentType: string | undefined): unknown {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  let json = body;
  if (type === 'application/x-www-form-urlencoded') json = new URLSearchParams(body).get('payload') ?? '';
  else if (type !== 'application/json') throw new HttpError(415, { error: 'unsupported_media_type', message: 'set the webhook content type to application/json' });
  try {
    return JSON.parse(json);
  } catch (e) {
    throw new HttpError(400, { error: 'invalid_json', message: `the body is not valid JSON: ${(e as Error).message}` });
  }
}
