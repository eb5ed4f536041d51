import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import { historyOf } from '../db/repositories/audit.ts';
import { findChange } from '../db/repositories/changes.ts';
import { checkRunOf, findDeploymentRequest, rememberCheckRun } from '../db/repositories/github.ts';
import { claimOutbox, completeOutbox, failOutbox, markDead } from '../db/repositories/outbox.ts';
import type { OutboxRow } from '../db/schema.ts';
import { kindLabel, parseOutboxRow, type ParsedFor } from '../delivery/messages.ts';
import { runEvery, type PeriodicJob } from '../periodic.ts';
import { applyPullRequestRead } from '../use-cases/read-pull-request.ts';
import type { Deps } from '../use-cases/ports.ts';
import { CHECK_NAME, checkRunFor } from './check-run.ts';
import type { GithubApi } from './client.ts';

export interface GithubSenderOptions {
  deps: Deps;
  api: GithubApi;
  /** Who a pending change waits on (the eligible seniors who have not signed), for the check run summary. */
  waitingOn(change: NonNullable<Awaited<ReturnType<typeof findChange>>>): Promise<string[]>;
  /** A link for the check run's "Details" (the card's permalink, else the change's API URL), when there is one. */
  detailsUrl?(change: NonNullable<Awaited<ReturnType<typeof findChange>>>): Promise<string | undefined>;
  pollMs?: number;
  leaseMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  onResult?(kind: string, outcome: 'delivered' | 'failed' | 'rate_limited' | 'dead', reason?: string): void;
}

type Outcome = { ok: true } | { ok: false; dead: true; error: string } | { ok: false; dead?: false; retryInMs: number; error: string; reason: string; rateLimited: boolean };

/**
 * Delivers the outbox rows whose target is GitHub: reads pull requests, keeps check runs current,
 * answers deployment protection rules. Same guarantees as the Slack sender: leased with SKIP LOCKED
 * (each row once across replicas), in order per change, retried with backoff on 5xx and network
 * errors, paused (not counted as failures) on primary and secondary rate limits, never dropped.
 */
export class GithubSender {
  readonly owner = `${hostname()}-${process.pid}-gh-${randomBytes(3).toString('hex')}`;
  private job: PeriodicJob | null = null;
  private running = false;
  /** Until when GitHub rate-limits each installation: its limits are per installation, so all its rows wait. */
  private readonly pausedUntil = new Map<number, number>();
  private readonly o: Required<Omit<GithubSenderOptions, 'onResult' | 'detailsUrl'>> & Pick<GithubSenderOptions, 'onResult' | 'detailsUrl'>;

  constructor(opts: GithubSenderOptions) {
    this.o = { pollMs: 250, leaseMs: 60_000, backoffBaseMs: 1_000, backoffMaxMs: 300_000, ...opts };
  }

  private get database(): Database {
    return this.o.deps.database;
  }

  private get logger(): Logger {
    return this.o.deps.logger;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.job = runEvery('github sender', this.o.pollMs, async () => (await this.drainOnce()) > 0, this.logger);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.job?.stop();
  }

  nudge(): void {
    this.job?.nudge();
  }

  /** Claims and delivers one batch; returns how many rows were claimed. */
  async drainOnce(): Promise<number> {
    const rows = await claimOutbox(this.database, this.owner, 10, this.o.leaseMs, 'github');
    const byGroup = new Map<string, OutboxRow[]>();
    for (const r of rows) byGroup.set(r.groupKey, [...(byGroup.get(r.groupKey) ?? []), r]);
    await Promise.all([...byGroup.values()].map((list) => this.deliverGroup(list)));
    return rows.length;
  }

  private async deliverGroup(rows: OutboxRow[]): Promise<void> {
    const db = this.database.db;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const parsed = parseOutboxRow(row, 'github');
      if (!parsed.ok) {
        await markDead(db, row.id, this.owner, parsed.error);
        this.o.onResult?.(kindLabel(row.kind), 'dead', 'unreadable');
        this.logger.error({ outbox_id: row.id, kind: row.kind, error: parsed.error }, 'github outbox: unreadable row (unknown kind or malformed payload); dead, nothing delivered');
        continue;
      }
      const outcome = await this.deliver(row, parsed.message).catch((err: unknown) => classify(err, row.attempts, this.o));
      if (outcome.ok) {
        this.o.onResult?.(row.kind, 'delivered');
        continue;
      }
      if (outcome.dead) {
        await markDead(db, row.id, this.owner, outcome.error);
        this.o.onResult?.(row.kind, 'dead', 'permanent');
        this.logger.error({ outbox_id: row.id, kind: row.kind, error: outcome.error }, 'github outbox: permanent error; the row is dead (POST /api/outbox/:id/retry once fixed)');
        continue;
      }
      await failOutbox(db, row.id, this.owner, outcome.error, outcome.retryInMs, { countAttempt: !outcome.rateLimited });
      this.o.onResult?.(row.kind, outcome.rateLimited ? 'rate_limited' : 'failed', outcome.reason);
      this.logger.warn({ outbox_id: row.id, kind: row.kind, error: outcome.error, retry_in_ms: outcome.retryInMs }, 'github outbox: delivery failed; will retry');
      // Keep the change's order: its later rows wait behind this one.
      for (const r of rows.slice(i + 1)) await failOutbox(db, r.id, this.owner, 'waiting behind a failed row', outcome.retryInMs, { countAttempt: false });
      return;
    }
  }

  private async deliver(row: OutboxRow, m: ParsedFor<'github'>): Promise<Outcome> {
    const done = async (): Promise<Outcome> => {
      await completeOutbox(this.database.db, row.id, this.owner);
      return { ok: true };
    };
    switch (m.kind) {
      case 'github_read_pr': {
        const change = await findChange(this.database.db, m.payload.change_id);
        if (!change || !change.awaiting_read || change.round !== m.payload.round || !change.github_installation_id) return done();
        const { repo, number } = pullRequestOf(change.external_id);
        const installation = change.github_installation_id;
        const [files, commits] = await this.github(installation, () => Promise.all([this.o.api.pullRequestFiles(installation, repo, number), this.o.api.pullRequestCommits(installation, repo, number)]));
        await applyPullRequestRead(this.o.deps, change.id, m.payload.round, { files, commits });
        return done();
      }
      case 'github_check_run': {
        const change = await findChange(this.database.db, m.payload.change_id);
        if (!change?.github_installation_id || !change.head_sha) return done();
        const { repo } = pullRequestOf(change.external_id);
        const state = checkRunFor(change, {
          waitingOn: change.status === 'pending' ? await this.o.waitingOn(change) : [],
          detailsUrl: await this.o.detailsUrl?.(change),
          shadow: this.o.deps.config.resolved.enforcementOf(change.team) === 'shadow',
          cancelled: change.status === 'cancelled' ? await this.cancellation(change.id) : undefined,
        });
        const installation = change.github_installation_id;
        const existing = await checkRunOf(this.database.db, change.id, change.head_sha);
        if (existing !== null) {
          await this.github(installation, () => this.o.api.updateCheckRun(installation, repo, existing, state));
          return done();
        }
        // Created once per head: an attempt whose answer was lost left it on GitHub, named by external_id.
        const externalId = `${change.key}@${change.head_sha}`;
        const found = row.inDoubt || row.attempts > 0 ? (await this.github(installation, () => this.o.api.findCheckRuns(installation, repo, change.head_sha!, CHECK_NAME))).find((r) => r.external_id === externalId) : undefined;
        const id = found?.id ?? (await this.github(installation, () => this.o.api.createCheckRun(installation, repo, { ...state, head_sha: change.head_sha!, external_id: externalId })));
        if (found) await this.github(installation, () => this.o.api.updateCheckRun(installation, repo, found.id, state));
        await this.database.db.transaction(async (tx) => {
          await rememberCheckRun(tx, change.id, change.head_sha!, id, this.o.deps.clock.now());
          await completeOutbox(tx, row.id, this.owner);
        });
        return { ok: true };
      }
      case 'github_deployment_answer': {
        const r = await findDeploymentRequest(this.database.db, m.payload.request_id);
        if (!r?.answer) return done();
        await this.github(r.installationId, () => this.o.api.answerDeployment(r.installationId, r.callbackUrl, { environment_name: r.githubEnvironment, state: r.answer as 'approved' | 'rejected', comment: r.comment ?? '' }));
        return done();
      }
      default: {
        // Unreachable for a parsed GitHub row (the compiler checks the switch); fail closed.
        const unknown: never = m;
        return { ok: false, dead: true, error: `${(unknown as { kind: string }).kind} is not delivered to GitHub` };
      }
    }
  }

  /**
   * One call to GitHub as an installation. While GitHub rate-limits the installation, no call is
   * made (the row waits out the limit); a call that meets a limit pauses the whole installation.
   */
  private async github<T>(installation: number, call: () => Promise<T>): Promise<T> {
    const wait = (this.pausedUntil.get(installation) ?? 0) - Date.now();
    if (wait > 0) throw new RateLimitHold(installation, wait);
    try {
      return await call();
    } catch (err) {
      const limit = rateLimitOf(err);
      if (limit) this.pausedUntil.set(installation, Math.max(this.pausedUntil.get(installation) ?? 0, Date.now() + limit.waitMs));
      throw err;
    }
  }

  /** Who cancelled a change and why: its last move to cancelled in the audit trail. */
  private async cancellation(changeId: number): Promise<{ by: string; reason: string | null } | undefined> {
    const e = (await historyOf(this.database.db, changeId, ['status_changed'])).filter((h) => h.data.to === 'cancelled').at(-1);
    return e && { by: e.actor, reason: typeof e.data.reason === 'string' ? e.data.reason : null };
  }
}

/** `owner/name#12` → the repository and the pull request number. */
export function pullRequestOf(externalId: string): { repo: string; number: number } {
  const i = externalId.lastIndexOf('#');
  return { repo: externalId.slice(0, i), number: Number(externalId.slice(i + 1)) };
}

/** A call not made because GitHub rate-limits its installation: the row waits without counting a failure. */
class RateLimitHold extends Error {
  constructor(
    readonly installation: number,
    readonly waitMs: number,
  ) {
    super(`waiting out GitHub's rate limit on installation ${installation}`);
  }
}

type ApiError = { status?: number; message?: string; response?: { headers?: Record<string, string | undefined> } };

/** GitHub's rate limits: primary (`x-ratelimit-remaining: 0` until `x-ratelimit-reset`), secondary (403/429 with `retry-after`). */
function rateLimitOf(err: unknown): { waitMs: number; error: string } | null {
  if (err instanceof RateLimitHold) return { waitMs: err.waitMs, error: err.message };
  const e = err as ApiError;
  const h = e.response?.headers ?? {};
  if (e.status !== 403 && e.status !== 429) return null;
  if (h['retry-after']) return { waitMs: Math.max(1, Number(h['retry-after'])) * 1000, error: `GitHub secondary rate limit (retry-after ${h['retry-after']}s)` };
  if (h['x-ratelimit-remaining'] === '0' && h['x-ratelimit-reset']) {
    return { waitMs: Math.max(1_000, Number(h['x-ratelimit-reset']) * 1000 - Date.now()), error: `GitHub rate limit exhausted until ${new Date(Number(h['x-ratelimit-reset']) * 1000).toISOString()}` };
  }
  return null;
}

/**
 * What to do after a GitHub error: rate limits pause the row without counting a failure (the
 * installation's other rows wait too, see `GithubSender.github`), 5xx and network errors back off,
 * and a 404 or 422 is permanent.
 */
function classify(err: unknown, attempts: number, o: { backoffBaseMs: number; backoffMaxMs: number }): Outcome {
  const e = err as ApiError;
  const backoff = Math.min(o.backoffMaxMs, o.backoffBaseMs * 2 ** Math.min(attempts, 20)) * (0.75 + Math.random() * 0.5);
  const limit = rateLimitOf(err);
  if (limit) return { ok: false, rateLimited: true, retryInMs: limit.waitMs, error: limit.error, reason: 'rate_limited' };
  if (e.status === 404 || e.status === 422) return { ok: false, dead: true, error: `GitHub answered ${e.status}: ${(e.message ?? '').slice(0, 300)}` };
  const what = e.status ? `GitHub answered ${e.status}` : `request to GitHub failed: ${(e.message ?? String(err)).slice(0, 200)}`;
  return { ok: false, rateLimited: false, retryInMs: backoff, error: what, reason: e.status ? 'http_error' : 'network' };
}
