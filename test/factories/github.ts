import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';

/**
 * Real GitHub webhook payloads from `@octokit/webhooks-examples` (the examples GitHub's own
 * documentation ships), adjusted per test, and signed the way GitHub signs them.
 */

type Json = Record<string, any>;
interface WebhookExamples {
  name: string;
  examples: Json[];
}

const require = createRequire(import.meta.url);
const INDEX = require.resolve('@octokit/webhooks-examples/api.github.com/index.json');
const all = JSON.parse(readFileSync(INDEX, 'utf8')) as WebhookExamples[];

export const WEBHOOK_SECRET = 'test-github-webhook-secret';
export const REPO = 'acme/shop';

/** A deep copy of the first real `pull_request` example with this action. */
export function pullRequestExample(action: string): Json {
  const pr = all.find((e) => e.name === 'pull_request');
  const example = pr?.examples.find((e) => e.action === action);
  if (!example) throw new Error(`no pull_request example with action ${action} in @octokit/webhooks-examples`);
  return structuredClone(example);
}

export interface PullRequestOverrides {
  repo?: string;
  number?: number;
  title?: string;
  body?: string | null;
  labels?: string[];
  /** The label added or removed (`labeled` / `unlabeled`). */
  label?: string;
  sha?: string;
  login?: string;
  userType?: 'User' | 'Bot';
  draft?: boolean;
  merged?: boolean;
  mergedAt?: string | null;
  changedFiles?: number;
  additions?: number;
  deletions?: number;
  /** `pull_request.updated_at`; default: later than every event built before (events are built in the order GitHub sends them). */
  updatedAt?: string;
  /** The GitHub App installation the event comes through. */
  installation?: number;
  mergeCommitSha?: string;
}

let eventClock = Date.parse('2026-11-02T09:00:00Z');
/** A time later than the previous one: each event built is newer than the ones before it. */
export const nextEventTime = (): string => new Date((eventClock += 1_000)).toISOString();

/** A real `pull_request` payload with `action`, adjusted: repository, number, title, body, labels, head SHA, author… */
export function pullRequestEvent(action: string, o: PullRequestOverrides = {}): Json {
  const e = pullRequestExample(action);
  const pr = e.pull_request;
  const repo = o.repo ?? REPO;
  const number = o.number ?? pr.number;
  e.repository.full_name = repo;
  e.repository.name = repo.split('/')[1];
  e.number = number;
  pr.number = number;
  pr.html_url = `https://github.com/${repo}/pull/${number}`;
  if (o.title !== undefined) pr.title = o.title;
  if (o.body !== undefined) pr.body = o.body;
  if (o.labels !== undefined) pr.labels = o.labels.map((name, i) => ({ id: 1000 + i, node_id: `L${i}`, url: `https://api.github.com/repos/${repo}/labels/${name}`, name, color: 'ededed', default: false, description: null }));
  if (o.label !== undefined) e.label = { id: 999, node_id: 'L999', url: `https://api.github.com/repos/${repo}/labels/${o.label}`, name: o.label, color: 'ededed', default: false, description: null };
  if (o.sha !== undefined) {
    if (action === 'synchronize') e.before = pr.head.sha;
    pr.head.sha = o.sha;
    if (action === 'synchronize') e.after = o.sha;
  }
  if (o.login !== undefined) {
    pr.user.login = o.login;
    e.sender.login = o.login;
  }
  if (o.userType !== undefined) pr.user.type = o.userType;
  if (o.draft !== undefined) pr.draft = o.draft;
  if (o.merged !== undefined) pr.merged = o.merged;
  if (o.mergedAt !== undefined) pr.merged_at = o.mergedAt;
  if (o.changedFiles !== undefined) pr.changed_files = o.changedFiles;
  if (o.additions !== undefined) pr.additions = o.additions;
  if (o.deletions !== undefined) pr.deletions = o.deletions;
  pr.updated_at = o.updatedAt ?? nextEventTime();
  if (o.installation !== undefined) e.installation = { id: o.installation, node_id: 'MDIz' };
  if (o.mergeCommitSha !== undefined) pr.merge_commit_sha = o.mergeCommitSha;
  return e;
}

/** Headers GitHub sends with a delivery, signed with `secret` over exactly `body`. */
export async function githubHeaders(event: string, body: string, secret = WEBHOOK_SECRET): Promise<Record<string, string>> {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/test',
    'x-github-event': event,
    'x-github-delivery': crypto.randomUUID(),
    'x-hub-signature-256': await sign(secret, body),
  };
}

/** Posts an event to `/webhooks/github` as GitHub does (no bearer token). */
export async function deliver(baseUrl: string, event: string, payload: unknown, opts: { secret?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any }> {
  const body = JSON.stringify(payload);
  const headers = { ...(await githubHeaders(event, body, opts.secret)), ...opts.headers };
  const res = await fetch(`${baseUrl}/webhooks/github`, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, body: parsed };
}

/** A real `deployment_status` example (`created`), for a deployment of `sha` to `environment` in `state`. */
export function deploymentStatusEvent(o: { sha: string; environment?: string; state?: string; repo?: string; installation?: number; at?: string }): Json {
  const example = all.find((e) => e.name === 'deployment_status')!.examples[0];
  const e = structuredClone(example);
  const repo = o.repo ?? REPO;
  e.repository.full_name = repo;
  e.deployment.sha = o.sha;
  e.deployment.environment = o.environment ?? 'production';
  e.deployment_status.environment = o.environment ?? 'production';
  e.deployment_status.state = o.state ?? 'success';
  e.deployment_status.created_at = o.at ?? new Date().toISOString();
  if (o.installation) e.installation = { id: o.installation, node_id: 'MDIz' };
  return e;
}

/**
 * A `deployment_protection_rule` (`requested`) event, built from `@octokit/webhooks-schemas` (there
 * is no example payload): the environment, the callback to answer, the deployment's SHA and the
 * pull requests it ships.
 */
export function protectionRuleEvent(o: { sha: string; callbackUrl: string; environment?: string; pullRequests?: number[]; repo?: string; installation: number }): Json {
  const repo = o.repo ?? REPO;
  const pr = pullRequestExample('opened');
  return {
    action: 'requested',
    environment: o.environment ?? 'production',
    event: 'push',
    deployment_callback_url: o.callbackUrl,
    deployment: { url: `https://api.github.com/repos/${repo}/deployments/1`, id: 1, node_id: 'DE_1', sha: o.sha, ref: 'main', task: 'deploy', payload: {}, original_environment: o.environment ?? 'production', environment: o.environment ?? 'production', description: null, creator: pr.sender, created_at: new Date().toISOString(), updated_at: new Date().toISOString(), statuses_url: '', repository_url: '' },
    pull_requests: (o.pullRequests ?? []).map((number) => ({ ...pr.pull_request, number })),
    repository: { ...pr.repository, full_name: repo, name: repo.split('/')[1] },
    sender: pr.sender,
    installation: { id: o.installation, node_id: 'MDIz' },
  };
}
