import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { parseApiTokens, parseEnv, type ApiToken, type Env } from './config/env.ts';
import { ConfigError, loadConfigFile } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { databaseTarget, openDatabase, PROJECT_ROOT, type Database } from './db/client.ts';
import { DataDirBusyError, lockDataDir, persistentToken } from './db/data-dir.ts';
import { systemClock, type Clock } from './domain/types.ts';
import { registerChangeRoutes } from './http/routes/changes.ts';
import { registerHealthRoutes } from './http/routes/health.ts';
import { HttpServer } from './http/server.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { outboxStats } from './db/repositories/outbox.ts';
import { registerOutboxRoutes } from './http/routes/outbox.ts';
import { registerIncidentRoutes } from './http/routes/incidents.ts';
import { registerStatsRoutes } from './http/routes/stats.ts';
import { registerPolicyRoutes } from './http/routes/policy.ts';
import { registerGithubRoutes } from './http/routes/github.ts';
import { githubAppSettings, octokitGithubApi, type GithubApi } from './github/client.ts';
import { composeNotifiers, githubNotifier } from './github/notifier.ts';
import { GithubSender } from './github/sender.ts';
import { permalinkOf } from './db/repositories/outbox.ts';
import { cardRef } from './delivery/messages.ts';
import { reminderTargets } from './domain/escalation.ts';
import type { Change } from './domain/change.ts';
import { registerServiceRoutes } from './http/routes/services.ts';
import { registerFreezeRoutes } from './http/routes/freezes.ts';
import { createSlackApp, type SlackRuntime, type SlackSettings } from './slack/app.ts';
import { guardSlackListener } from './slack/guard.ts';
import { registerSandboxRoutes } from './sandbox/routes.ts';
import { SlackStandin } from './sandbox/slack-standin.ts';
import { ClickQueue, ReceiptRecovery } from './slack/click-inbox.ts';
import { cardChannel, slackNotifier } from './slack/notifier.ts';
import { startScheduler } from './scheduler/index.ts';
import { OutboxSender } from './slack/outbox-sender.ts';
import { messageRenderer } from './slack/render.ts';
import { slackReviewerDirectory } from './slack/reviewer-directory.ts';
import { configReviewers, silentIncidentNotifier, silentNotifier, silentObserver, type Deps } from './use-cases/ports.ts';
import { slackIncidentNotifier } from './slack/incident-notifier.ts';
import { registerAuditRoutes } from './http/routes/audit.ts';
import { AuditSealer } from './use-cases/seal-audit-chain.ts';

export interface StartOptions {
  /** Environment variables (default: process.env). */
  env?: Record<string, string | undefined>;
  /** A config object instead of reading COUNTERSIGN_CONFIG. */
  config?: Config;
  /** An already-open database (tests hand in a clone); migrated here like any other. */
  database?: Database;
  clock?: Clock;
  logger?: Logger;
  /** Overrides PORT; 0 picks a free port. */
  port?: number;
  /** Set false to run without the node-cron jobs (tests that drive the sweep themselves). */
  scheduler?: boolean;
  /** Click-receipt recovery tuning (tests use short delays). */
  recovery?: { everyMs?: number; olderThanMs?: number };
  /** Outbox sender tuning (tests use short backoffs). */
  outbox?: { pollMs?: number; backoffBaseMs?: number; backoffMaxMs?: number; postIntervalMs?: number; leaseMs?: number };
  /** The GitHub API (tests may hand in their own; default: Octokit against GITHUB_API_URL). */
  githubApi?: GithubApi;
  /** GitHub sender tuning (tests use short backoffs). */
  githubOutbox?: { pollMs?: number; backoffBaseMs?: number; backoffMaxMs?: number; leaseMs?: number };
  /** HTTP limits (tests use short timeouts): see ServerOptions. */
  http?: { requestTimeoutMs?: number; headersTimeoutMs?: number; maxConnections?: number };
  /** The audit chain sealer (every 2 s); false turns it off (tests that seal by hand). */
  auditSealer?: false | { everyMs?: number };
}

export interface RunningApp {
  url: string;
  port: number;
  deps: Deps;
  slack: SlackRuntime | null;
  sender: OutboxSender | null;
  /** Delivers the GitHub rows of the outbox when the GitHub App is configured. */
  githubSender: GithubSender | null;
  /** The in-process Slack stand-in when running in sandbox mode. */
  sandbox: SlackStandin | null;
  /** Set when no COUNTERSIGN_API_TOKENS was given: the generated token (kept in `generatedTokenFile` when embedded). */
  generatedToken: string | null;
  generatedTokenFile: string | null;
  tokens: ApiToken[];
  stop(): Promise<void>;
}

/** Composition root: env → config → database → migrate → wire → listen. */
export async function start(opts: StartOptions = {}): Promise<RunningApp> {
  const env = parseEnv(opts.env ?? process.env);
  const logger = opts.logger ?? createLogger(env.LOG_LEVEL, { pretty: process.stdout.isTTY && env.NODE_ENV !== 'production' });
  const config = opts.config ?? loadConfigFile(resolve(env.COUNTERSIGN_CONFIG ?? 'countersign.yml'));
  // Before anything is opened: an exposed sandbox is refused outright.
  if (!env.SLACK_BOT_TOKEN && env.COUNTERSIGN_SANDBOX !== 'off') refuseExposedSandbox(env);
  let tokens = parseApiTokens(env.COUNTERSIGN_API_TOKENS);
  const clock = opts.clock ?? systemClock;
  const target = opts.database ? null : databaseTarget(env.DATABASE_URL, env.COUNTERSIGN_DATA_DIR ?? resolve(PROJECT_ROOT, '.data/pglite'));
  const dataDir = target?.kind === 'pglite' ? target.dataDir : null;
  const sandboxOn = !env.SLACK_BOT_TOKEN && env.COUNTERSIGN_SANDBOX !== 'off';

  // Two processes on one embedded data directory would corrupt it: lock first (this opens nothing),
  // so a second `npm start` names the data directory rather than the port the first one holds.
  const releaseLock = dataDir ? lockDataDir(dataDir) : undefined;
  // Then the port: a port in use is said plainly, before any database is opened.
  const metricsBox: { observe?: (method: string, route: string, status: number, seconds: number) => void } = {};
  const server = new HttpServer({ logger, tokens, maxBodyBytes: env.COUNTERSIGN_MAX_BODY_BYTES, observe: (...a) => metricsBox.observe?.(...a), ...opts.http });
  // The sandbox is for trying Countersign on a laptop: it binds to loopback unless HOST says otherwise.
  const host = env.HOST ?? (sandboxOn ? '127.0.0.1' : '0.0.0.0');
  const requestedPort = opts.port ?? env.PORT;
  const port = await server.listen(requestedPort, host).catch((err: NodeJS.ErrnoException) => {
    releaseLock?.();
    if (err.code === 'EADDRINUSE') throw new StartupError(`Port ${requestedPort} is in use; set PORT=… (or stop the other process)`);
    if (err.code === 'EACCES') throw new StartupError(`Port ${requestedPort} needs privileges this process does not have; set PORT to 1024 or above`);
    throw err;
  });
  const cleanup: (() => Promise<void> | void)[] = [...(releaseLock ? [releaseLock] : []), () => server.close(0)];
  const undo = async () => {
    for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => {});
  };

  let generatedToken: string | null = null;
  let generatedTokenFile: string | null = null;
  let database: Database;
  try {
    if (tokens.length === 0) {
      // Embedded installs keep their generated token, so a curl line or a CLI set up earlier keeps working.
      const kept = dataDir ? persistentToken(dataDir) : null;
      generatedTokenFile = kept?.file ?? null;
      generatedToken = kept?.token ?? randomBytes(24).toString('base64url');
      tokens = [{ name: 'local', token: generatedToken, scopes: ['admin'] }];
      server.setTokens(tokens, kept ? `the token generated for this server, kept in ${kept.file} (printed by npm start), or set COUNTERSIGN_API_TOKENS` : 'the token printed at start (generated for this run), or set COUNTERSIGN_API_TOKENS');
    }
    database = opts.database ?? (await openDatabase(target!, { migrationsDir: env.COUNTERSIGN_MIGRATIONS_DIR }));
    if (!opts.database) cleanup.push(() => database.close());
    await database.migrate();
  } catch (err) {
    await undo();
    throw err;
  }
  const ownsDatabase = !opts.database;

  const deps: Deps = { database, config, clock, reviewers: configReviewers(config), notifier: silentNotifier, incidents: silentIncidentNotifier, logger, observe: silentObserver };
  let stopping = false;
  const metrics = createMetrics(database);
  metricsBox.observe = metrics.observeRequest;
  deps.observe = metrics.observer;
  server.route('GET', '/metrics', async () => ({ status: 200, text: await metrics.registry.metrics(), headers: { 'content-type': metrics.registry.contentType } }), { auth: false });
  registerHealthRoutes(server, database, () => stopping, async () => ({ outbox: await outboxStats(database) }));
  registerChangeRoutes(server, deps);
  registerOutboxRoutes(server, database);
  registerIncidentRoutes(server, deps);
  registerStatsRoutes(server, deps);
  registerPolicyRoutes(server, deps);
  registerFreezeRoutes(server, deps);
  // The GitHub App (optional): reads pull requests, keeps the required check, answers protection rules.
  const gh = githubAppSettings(env);
  let githubSender: GithubSender | null = null;
  if (gh) {
    githubSender = new GithubSender({
      deps,
      api: opts.githubApi ?? octokitGithubApi(gh, logger),
      waitingOn: (change) => waitingOnNames(deps, change),
      // The card's permalink, else the change's API URL (when the public URL is known).
      detailsUrl: async (change) => (await permalinkOf(database.db, cardRef(change))) ?? (env.COUNTERSIGN_PUBLIC_URL && `${env.COUNTERSIGN_PUBLIC_URL.replace(/\/+$/, '')}/api/changes/${change.key}`),
      onResult: metrics.outboxResult,
      ...opts.githubOutbox,
    });
  }
  registerGithubRoutes(server, deps, { secret: env.GITHUB_WEBHOOK_SECRET, app: gh ? { apiUrl: gh.apiUrl } : null, nudge: () => githubSender?.nudge() });
  registerAuditRoutes(server, deps);
  registerServiceRoutes(server, config);

  let slack: SlackRuntime | null = null;
  let sender: OutboxSender | null = null;
  let recovery: ReceiptRecovery | null = null;
  let clickQueue: ClickQueue | null = null;
  let sandbox: { standin: SlackStandin; routes: { closeStreams(): void } } | null = null;
  let appUrl = '';

  // No Slack token: the local sandbox stands in for Slack (unless COUNTERSIGN_SANDBOX=off).
  let slackSettings: SlackSettings | null = env.SLACK_BOT_TOKEN
    ? { botToken: env.SLACK_BOT_TOKEN, signingSecret: env.SLACK_SIGNING_SECRET ?? '', appToken: env.SLACK_APP_TOKEN, apiUrl: env.SLACK_API_URL }
    : null;
  if (slackSettings && !slackSettings.signingSecret && !slackSettings.appToken) {
    throw new ConfigError('SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
  }
  if (!slackSettings && sandboxOn) {
    // The page has no sign-in, so it may only ever show a token made for this run that cannot break
    // the glass: never a configured one, nor the generated admin token (kept across restarts when embedded).
    const sandboxToken = randomBytes(24).toString('base64url');
    tokens = [...tokens, { name: 'sandbox', token: sandboxToken, scopes: ['submit', 'read', 'deploy'] }];
    server.setTokens(tokens, generatedToken ? `the token printed at start${generatedTokenFile ? `, kept in ${generatedTokenFile}` : ''}, or set COUNTERSIGN_API_TOKENS` : 'COUNTERSIGN_API_TOKENS (or the sandbox page, for its own token)');
    const standin = new SlackStandin({ users: config.engineers.filter((e) => e.slack).map((e) => ({ id: e.slack!, name: e.github ?? e.slack!, real_name: e.name, email: e.email })) });
    await standin.start(0, '127.0.0.1');
    // DNS rebinding: a page on another origin that resolves to 127.0.0.1 must not drive the sandbox.
    server.allowOnlyHosts(LOOPBACK_HOSTS);
    const routes = registerSandboxRoutes(server, { standin, config, appEvents: () => `${appUrl}/slack/events`, apiToken: sandboxToken });
    sandbox = { standin, routes };
    slackSettings = { botToken: 'xoxb-sandbox', signingSecret: standin.signingSecret, apiUrl: standin.apiUrl, bot: { botId: standin.botId, botUserId: standin.botUserId } };
  }

  if (slackSettings) {
    const clicks = (clickQueue = new ClickQueue());
    const ctx = { deps, nudge: () => sender?.nudge(), clicks };
    slack = createSlackApp(slackSettings, ctx, logger);
    deps.reviewers = slackReviewerDirectory(config, slack.client, logger);
    deps.notifier = gh ? composeNotifiers(slackNotifier(config), githubNotifier(deps)) : slackNotifier(config);
    deps.incidents = slackIncidentNotifier(config);
    sender = new OutboxSender({ database, client: slack.client, logger, render: messageRenderer(deps), onResult: metrics.outboxResult, ...opts.outbox });
    recovery = new ReceiptRecovery(ctx, logger, opts.recovery);
    if (slack.listener) server.mount('/slack', guardSlackListener(slackSettings.signingSecret, slack.listener));
  } else {
    logger.info('Slack is off (no SLACK_BOT_TOKEN, COUNTERSIGN_SANDBOX=off): the API and the gate work; nothing is posted to Slack');
    server.mount('/slack', (_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'slack_disabled', message: 'Slack is not configured on this server (set SLACK_BOT_TOKEN)' }));
    });
  }

  const url = `http://${host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host}:${port}`;
  appUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  if (gh && !slack) deps.notifier = composeNotifiers(silentNotifier, githubNotifier(deps));
  await slack?.start();
  sender?.start();
  githubSender?.start();
  // Escalation runs even with Slack off: expiry closes the gate whether or not anyone is told.
  const scheduler = opts.scheduler === false ? null : startScheduler(deps, (c) => cardChannel(config, c));
  recovery?.start();
  const auditSealer = opts.auditSealer === false ? null : new AuditSealer(deps, opts.auditSealer);
  auditSealer?.start();
  server.open();
  logger.info({ url, port, database: database.kind, slack: sandbox ? 'sandbox' : (slack?.mode ?? 'off') }, 'Countersign is listening');
  logger.flush();

  return {
    url,
    port,
    deps,
    slack,
    sender,
    githubSender,
    sandbox: sandbox?.standin ?? null,
    generatedToken,
    generatedTokenFile,
    tokens,
    async stop() {
      if (stopping) return;
      // /readyz turns 503 first, so a load balancer stops sending traffic while in-flight work finishes.
      stopping = true;
      if (env.COUNTERSIGN_SHUTDOWN_DELAY_MS > 0) await new Promise((r) => setTimeout(r, env.COUNTERSIGN_SHUTDOWN_DELAY_MS));
      sandbox?.routes.closeStreams();
      await server.close();
      await scheduler?.stop();
      await auditSealer?.stop();
      await clickQueue?.drain();
      await recovery?.stop();
      await sender?.stop();
      await githubSender?.stop();
      await slack?.stop();
      // A database handed in by the caller is the caller's to close.
      if (ownsDatabase) await database.close();
      await sandbox?.standin.stop();
      releaseLock?.();
    },
  };
}

/** Who a pending change waits on, as GitHub people read it: @login when known, else the name or Slack id. */
async function waitingOnNames(deps: Deps, change: Change): Promise<string[]> {
  const eligible = await deps.reviewers.eligibleFor(change.team);
  const signed = change.sign_offs.filter((s) => s.round === change.round).map((s) => s.reviewer);
  return reminderTargets({ eligible, signed, author: change.author.slack_id ?? null, claimer: null }).map((id) => {
    const e = deps.config.engineers.find((x) => x.slack === id);
    return e?.github ? `@${e.github}` : (e?.name ?? id);
  });
}

/** A start-up problem said in one line (a port in use, a data directory in use): no stack trace. */
export class StartupError extends Error {}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

/**
 * The sandbox has no sign-in: anyone who reaches it can act as any senior. It runs only on a
 * loopback address and never with NODE_ENV=production.
 */
function refuseExposedSandbox(env: Env): void {
  const host = env.HOST ?? '127.0.0.1';
  const why = env.NODE_ENV === 'production' ? 'NODE_ENV is production' : !LOOPBACK_HOSTS.includes(host) ? `HOST is ${host}, not a loopback address` : null;
  if (!why) return;
  throw new ConfigError(
    `the local Slack sandbox cannot run because ${why}: it has no sign-in, so anyone who reaches it could approve changes as any senior.\n` +
      `  To run against Slack, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see docs/slack.md, "Install into a workspace").\n` +
      `  To run the API and gate without Slack, set COUNTERSIGN_SANDBOX=off. To try the sandbox, unset HOST (it binds to 127.0.0.1).`,
  );
}

/** Runs the server as `npm start` does: loads .env, starts, prints how to call the API, stops on SIGTERM/SIGINT. */
async function runCli(): Promise<void> {
  const envFile = resolve(process.cwd(), '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  let env: Env;
  try {
    env = parseEnv(process.env);
  } catch (err) {
    process.stderr.write(`Countersign cannot start: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (env.COUNTERSIGN_MIGRATE_ONLY) {
    // For a migration job run once per release: apply migrations, then exit.
    const target = databaseTarget(env.DATABASE_URL, env.COUNTERSIGN_DATA_DIR ?? resolve(PROJECT_ROOT, '.data/pglite'));
    let release = () => {};
    try {
      if (target.kind === 'pglite' && target.dataDir) release = lockDataDir(target.dataDir);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(1);
    }
    const database = await openDatabase(target, { migrationsDir: env.COUNTERSIGN_MIGRATIONS_DIR });
    await database.migrate();
    await database.close();
    release();
    process.stdout.write('Countersign: migrations applied\n');
    return;
  }
  let app: RunningApp;
  try {
    app = await start();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`Countersign cannot start: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof StartupError || err instanceof DataDirBusyError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (app.sandbox) process.stdout.write(`Countersign sandbox: open ${app.url}/\n`);
  if (app.generatedToken) {
    const where = app.generatedTokenFile ? `kept in ${app.generatedTokenFile}, the same at every start` : 'for this run';
    process.stdout.write(`\nNo COUNTERSIGN_API_TOKENS set; the API token (${where}):\n  curl -H "Authorization: Bearer ${app.generatedToken}" ${app.url}/api/changes\n\n`);
  }
  // A bug in a library must not take the gate down: log it and keep serving.
  process.on('unhandledRejection', (err) => app.deps.logger.error({ err }, 'unhandled rejection'));
  const shutdown = async (signal: string) => {
    app.deps.logger.info({ signal }, 'shutting down: /readyz answers 503, in-flight requests finish, the outbox finishes its current row');
    await app.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

// Run when this file is the entry point (tsx src/main.ts, node dist/main.js), also through a symlink or a path with spaces.
const entry = process.argv[1] && existsSync(process.argv[1]) ? pathToFileURL(realpathSync(process.argv[1])).href : '';
if (import.meta.url === entry) {
  await runCli();
}
