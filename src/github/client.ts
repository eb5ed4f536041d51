import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { App } from '@octokit/app';
import { Octokit } from '@octokit/rest';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.ts';

/**
 * The GitHub App's REST client: app JWTs and installation tokens come from @octokit/app (never
 * hand-signed), the base URL from GITHUB_API_URL (GitHub Enterprise Server, tests). Retries are the
 * outbox's job, so the client itself does not retry.
 */

export interface GithubAppSettings {
  appId: string;
  privateKey: string;
  apiUrl: string;
}

/** What Countersign asks of GitHub, per installation. */
export interface GithubApi {
  /** The files of a pull request (GitHub stops at 3,000): each name, and the old name of a rename. */
  pullRequestFiles(installation: number, repo: string, number: number): Promise<{ filename: string; previous_filename?: string; additions: number; deletions: number }[]>;
  /** The commits of a pull request (GitHub stops at 250). */
  pullRequestCommits(installation: number, repo: string, number: number): Promise<{ sha: string; message: string; author: string | null; authorType: string | null }[]>;
  createCheckRun(installation: number, repo: string, run: CheckRunState & { head_sha: string; external_id: string }): Promise<number>;
  updateCheckRun(installation: number, repo: string, id: number, run: CheckRunState): Promise<void>;
  /** Check runs named `name` on a commit, made by this app (to find one created by an attempt whose answer was lost). */
  findCheckRuns(installation: number, repo: string, sha: string, name: string): Promise<{ id: number; external_id: string | null }[]>;
  answerDeployment(installation: number, callbackUrl: string, answer: { environment_name: string; state: 'approved' | 'rejected'; comment: string }): Promise<void>;
}

/** What a check run shows: GitHub's `status`, `conclusion` and `output`. */
export interface CheckRunState {
  name: string;
  status: 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'neutral';
  details_url?: string;
  output: { title: string; summary: string };
}

/** Reads GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY (literal `\n` allowed) or GITHUB_APP_PRIVATE_KEY_FILE; null without an app id. */
export function githubAppSettings(env: { GITHUB_APP_ID?: string; GITHUB_APP_PRIVATE_KEY?: string; GITHUB_APP_PRIVATE_KEY_FILE?: string; GITHUB_API_URL?: string }): GithubAppSettings | null {
  if (!env.GITHUB_APP_ID) return null;
  let key = env.GITHUB_APP_PRIVATE_KEY?.replace(/\\n/g, '\n');
  if (!key && env.GITHUB_APP_PRIVATE_KEY_FILE) {
    try {
      key = readFileSync(env.GITHUB_APP_PRIVATE_KEY_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError(`GITHUB_APP_PRIVATE_KEY_FILE: cannot read ${env.GITHUB_APP_PRIVATE_KEY_FILE} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (!key || !/-----BEGIN (RSA )?PRIVATE KEY-----/.test(key)) {
    throw new ConfigError('GITHUB_APP_PRIVATE_KEY: with GITHUB_APP_ID set, give the App\'s private key (PEM; literal \\n allowed) or GITHUB_APP_PRIVATE_KEY_FILE');
  }
  // A garbled PEM would otherwise start fine and fail at the first GitHub call.
  try {
    createPrivateKey(key);
  } catch (err) {
    const source = env.GITHUB_APP_PRIVATE_KEY ? 'GITHUB_APP_PRIVATE_KEY' : `GITHUB_APP_PRIVATE_KEY_FILE (${env.GITHUB_APP_PRIVATE_KEY_FILE})`;
    throw new ConfigError(`${source}: not a valid private key (${(err as Error).message}); give the .pem GitHub generated for the App`);
  }
  return { appId: env.GITHUB_APP_ID, privateKey: key, apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, '') };
}

const split = (repo: string) => {
  const [owner, name] = repo.split('/');
  return { owner, repo: name };
};

/** The GitHub API through @octokit/app: one installation client per installation (tokens cached and renewed by Octokit). */
export function octokitGithubApi(settings: GithubAppSettings, logger: Logger): GithubApi {
  const log = { debug: () => {}, info: () => {}, warn: (m: string) => logger.debug({ github: m }), error: (m: string) => logger.debug({ github: m }) };
  const app = new App({ appId: settings.appId, privateKey: settings.privateKey, Octokit: Octokit.defaults({ baseUrl: settings.apiUrl, log, request: { retries: 0 } }) });
  const clients = new Map<number, Promise<Octokit>>();
  const client = (installation: number): Promise<Octokit> => {
    let c = clients.get(installation);
    if (!c) {
      c = app.getInstallationOctokit(installation) as unknown as Promise<Octokit>;
      c.catch(() => clients.delete(installation));
      clients.set(installation, c);
    }
    return c;
  };
  return {
    async pullRequestFiles(installation, repo, number) {
      const o = await client(installation);
      const files = await o.paginate(o.rest.pulls.listFiles, { ...split(repo), pull_number: number, per_page: 100 });
      return files.map((f) => ({ filename: f.filename, previous_filename: f.previous_filename, additions: f.additions, deletions: f.deletions }));
    },
    async pullRequestCommits(installation, repo, number) {
      const o = await client(installation);
      const commits = await o.paginate(o.rest.pulls.listCommits, { ...split(repo), pull_number: number, per_page: 100 });
      return commits.map((c) => ({ sha: c.sha, message: c.commit.message, author: c.author?.login ?? null, authorType: c.author?.type ?? null }));
    },
    async createCheckRun(installation, repo, run) {
      const o = await client(installation);
      const res = await o.rest.checks.create({ ...split(repo), ...run });
      return res.data.id;
    },
    async updateCheckRun(installation, repo, id, run) {
      const o = await client(installation);
      await o.rest.checks.update({ ...split(repo), check_run_id: id, ...run });
    },
    async findCheckRuns(installation, repo, sha, name) {
      const o = await client(installation);
      const res = await o.rest.checks.listForRef({ ...split(repo), ref: sha, check_name: name, filter: 'all', per_page: 100 });
      return res.data.check_runs.map((r) => ({ id: r.id, external_id: r.external_id ?? null }));
    },
    async answerDeployment(installation, callbackUrl, answer) {
      const o = await client(installation);
      // The callback URL comes from GitHub's own event; it is called with the installation token.
      await o.request({ method: 'POST', url: callbackUrl, ...answer });
    },
  };
}
