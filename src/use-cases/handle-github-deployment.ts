import { z } from 'zod';
import { findChange, findChangeByExternalId } from '../db/repositories/changes.ts';
import type { Tx } from '../db/client.ts';
import { answerDeploymentRequest, findChangeBySha, openDeploymentRequests, recordDeploymentRequest } from '../db/repositories/github.ts';
import { enqueue } from '../db/repositories/outbox.ts';
import { githubGroup, outboxMessage, type OutboxMessage } from '../delivery/messages.ts';
import type { Change } from '../domain/change.ts';
import { protectionAnswer } from '../domain/protection-rule.ts';
import { GITHUB_SOURCE, serviceForRepo } from './handle-github-event.ts';
import { gateContext } from './check-gate.ts';
import type { Deps } from './ports.ts';
import { recordDeployment } from './record-deployment.ts';

/**
 * GitHub deployments: `deployment_protection_rule` (hold an Actions job's environment until its
 * change may ship) and `deployment_status` (record a real deployment, for incident suspects).
 * Only what is used is validated; GitHub adds fields over time.
 */
const sha = z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/i, 'expected a full commit SHA');
const repository = z.looseObject({ full_name: z.string().min(3).max(200) });

export const protectionRuleEvent = z.looseObject({
  action: z.string().max(100),
  environment: z.string().min(1).max(255),
  deployment_callback_url: z.string().url().max(2000),
  deployment: z.looseObject({ sha }),
  pull_requests: z.array(z.looseObject({ number: z.number().int().positive() })).max(100).nullish(),
  repository,
  installation: z.looseObject({ id: z.number().int().positive() }),
});
export type ProtectionRuleEvent = z.infer<typeof protectionRuleEvent>;

export const deploymentStatusEvent = z.looseObject({
  action: z.string().max(100),
  deployment_status: z.looseObject({ state: z.string().max(50), environment: z.string().min(1).max(255).nullish(), created_at: z.iso.datetime({ offset: true }).nullish(), creator: z.looseObject({ login: z.string().max(100) }).nullish() }),
  deployment: z.looseObject({ sha, environment: z.string().min(1).max(255) }),
  repository,
});
export type DeploymentStatusEvent = z.infer<typeof deploymentStatusEvent>;

export type DeploymentOutcome =
  | { outcome: 'approved' | 'rejected' | 'held' | 'answered_before'; change: string | null; request: number; comment?: string }
  | { outcome: 'recorded'; change: string; deployment: number; ungated: boolean }
  | { outcome: 'ignored'; change: string | null; reason: string };

/** The Countersign environment of a GitHub environment (`github.environments`, default: the same name, lowercase). */
export const environmentFor = (deps: Deps, githubEnvironment: string): string => (deps.config.github.environments[githubEnvironment] ?? githubEnvironment).toLowerCase();

/** The change a deployment ships: a pull request it lists (of a configured repo), else the change whose head or merge commit is its SHA. */
async function changeFor(deps: Deps, repo: string, deploymentSha: string, pullRequests: { number: number }[]): Promise<Change | null> {
  for (const pr of pullRequests) {
    const found = await findChangeByExternalId(deps.database.db, GITHUB_SOURCE, `${repo}#${pr.number}`);
    if (found) return found;
  }
  return findChangeBySha(deps.database.db, repo, deploymentSha);
}

/**
 * `deployment_protection_rule` (`requested`): the request is stored, then answered through the
 * outbox at once when its change may ship or may not (same rule as the gate, including stale
 * approvals), or held and answered when the change is decided (see the GitHub notifier). A request
 * for a commit no change covers is rejected, unless `github.unknown_deployments: approve`.
 * The callback must be on the configured GitHub API (it is called with the installation's token).
 */
export async function handleProtectionRule(deps: Deps, e: ProtectionRuleEvent, apiUrl: string): Promise<DeploymentOutcome> {
  if (e.action !== 'requested') return { outcome: 'ignored', change: null, reason: `deployment_protection_rule action ${e.action} changes nothing` };
  const repo = e.repository.full_name;
  if (!serviceForRepo(deps, repo)) return { outcome: 'ignored', change: null, reason: `repository ${repo} is not in github.repos` };
  if (!e.deployment_callback_url.startsWith(`${apiUrl}/repos/`)) {
    return { outcome: 'ignored', change: null, reason: `the callback URL is not on ${apiUrl}; it is not called` };
  }
  const deploymentSha = e.deployment.sha.toLowerCase();
  const found = await changeFor(deps, repo, deploymentSha, e.pull_requests ?? []);
  const now = deps.clock.now();
  return deps.database.db.transaction(async (tx) => {
    // The change's row lock orders this with decisions: a decision either sees this request (and
    // answers it), or committed before, and this answers from the state it left.
    const change = found ? await findChange(tx, found.id, { forUpdate: true }) : null;
    const request = await recordDeploymentRequest(tx, {
      changeId: change?.id ?? null,
      installationId: e.installation.id,
      repo,
      callbackUrl: e.deployment_callback_url,
      githubEnvironment: e.environment,
      environment: environmentFor(deps, e.environment),
      sha: deploymentSha,
      createdAt: now,
    });
    if (request.answeredAt) return { outcome: 'answered_before' as const, change: change?.key ?? null, request: request.id };
    const a = protectionAnswer(change, deploymentSha, { unknownDeployments: deps.config.github.unknown_deployments }, change ? gateContext(deps, change, request.environment) : undefined);
    if (a.state === 'wait') return { outcome: 'held' as const, change: change!.key, request: request.id };
    if (await answerDeploymentRequest(tx, request.id, a.state, a.comment, now)) {
      await enqueue(tx, [outboxMessage('github_deployment_answer', change ? githubGroup(change) : `github:request:${request.id}`, `github:${repo}`, { request_id: request.id })]);
    }
    return { outcome: a.state, change: change?.key ?? null, request: request.id, comment: a.comment };
  });
}

/**
 * Answers every deployment request held for this change that its state decides now (each exactly
 * once; the caller holds the change's row lock): on a decision, and when a freeze ends.
 */
export async function answerHeld(deps: Pick<Deps, 'config' | 'clock'>, tx: Tx, change: Change): Promise<OutboxMessage[]> {
  const out: OutboxMessage[] = [];
  for (const r of await openDeploymentRequests(tx, change.id)) {
    const a = protectionAnswer(change, r.sha, { unknownDeployments: deps.config.github.unknown_deployments }, gateContext(deps, change, r.environment));
    if (a.state === 'wait') continue;
    if (await answerDeploymentRequest(tx, r.id, a.state, a.comment, deps.clock.now())) {
      out.push(outboxMessage('github_deployment_answer', githubGroup(change), `github:${r.repo}`, { request_id: r.id }));
    }
  }
  return out;
}

/**
 * `deployment_status` `success`, `failure` or `error`: a deployment of the change whose head or
 * merge commit is the deployed SHA, recorded exactly like `POST /api/changes/:key/deployments`
 * (flagged ungated when its gate was not open), so incident suspects come from real deploys.
 */
export async function handleDeploymentStatus(deps: Deps, e: DeploymentStatusEvent): Promise<DeploymentOutcome> {
  const state = e.deployment_status.state;
  const status = state === 'success' ? 'succeeded' : state === 'failure' || state === 'error' ? 'failed' : null;
  if (!status) return { outcome: 'ignored', change: null, reason: `deployment state ${state} is not a finished deployment` };
  const repo = e.repository.full_name;
  if (!serviceForRepo(deps, repo)) return { outcome: 'ignored', change: null, reason: `repository ${repo} is not in github.repos` };
  const change = await findChangeBySha(deps.database.db, repo, e.deployment.sha.toLowerCase());
  if (!change) return { outcome: 'ignored', change: null, reason: `no Countersign change for ${e.deployment.sha}` };
  const at = e.deployment_status.created_at ? new Date(e.deployment_status.created_at) : undefined;
  const result = await recordDeployment(
    deps,
    change.key,
    { environment: environmentFor(deps, e.deployment_status.environment ?? e.deployment.environment), status, deployed_at: at },
    `github:${e.deployment_status.creator?.login ?? 'deployment'}`,
    'github_webhook',
  );
  if (!result.ok) return { outcome: 'ignored', change: change.key, reason: result.message };
  return { outcome: 'recorded', change: change.key, deployment: result.deployment.id, ungated: result.deployment.ungated };
}
