import { App, LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { registerListeners } from './listeners/index.ts';
import type { ListenerContext } from './listeners/context.ts';
import type { GuardedDispatch } from './guard.ts';
import { VerifiedRequestReceiver } from './receiver.ts';

export interface SlackSettings {
  botToken: string;
  signingSecret: string;
  appToken?: string;
  apiUrl?: string;
  /** Known bot ids (the sandbox knows its own): Bolt then skips its auth.test call at construction. */
  bot?: { botId: string; botUserId: string };
}

export interface SlackRuntime {
  mode: 'http' | 'socket';
  /**
   * HTTP mode: Bolt's side of `POST /slack/events`, for requests the guard has verified; mount it behind
   * `guardSlackListener` (it answers 401 to anything else). Null in Socket Mode.
   */
  listener: GuardedDispatch | null;
  client: WebClient;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Web API options: the outbox owns retries, and a 429 surfaces as an error with its Retry-After. */
export function webClientOptions(apiUrl?: string) {
  return {
    ...(apiUrl && { slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` }),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
  };
}

/** Bolt's logger interface on top of pino, so Slack logs are structured like ours. */
function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const l = log.child({ component: 'bolt' });
  return {
    debug: (...m) => l.debug(m.map(String).join(' ')),
    info: (...m) => l.info(m.map(String).join(' ')),
    warn: (...m) => l.warn(m.map(String).join(' ')),
    error: (...m) => l.error(m.map((x) => (x instanceof Error ? x.message : String(x))).join(' ')),
    setLevel: (v) => (level = v),
    getLevel: () => level,
    setName: () => {},
  };
}

/**
 * The Bolt app. HTTP mode: a custom receiver behind the guard, which verifies each signature once (401
 * otherwise), mounted at /slack/events on the API server. Socket Mode when SLACK_APP_TOKEN is set.
 */
export function createSlackApp(settings: SlackSettings, ctx: ListenerContext, logger: Logger): SlackRuntime {
  const clientOptions = webClientOptions(settings.apiUrl);
  const client = new WebClient(settings.botToken, clientOptions);
  const common = { token: settings.botToken, clientOptions, logger: boltLogger(logger), ignoreSelf: false, ...settings.bot };
  let app: App;
  let listener: GuardedDispatch | null = null;
  if (settings.appToken) {
    app = new App({ ...common, appToken: settings.appToken, socketMode: true, signingSecret: settings.signingSecret });
  } else {
    const receiver = new VerifiedRequestReceiver(boltLogger(logger));
    app = new App({ ...common, receiver });
    listener = receiver.dispatch;
  }
  app.error(async (err) => {
    logger.error({ err: { message: err.message, code: (err as { code?: string }).code } }, 'slack listener failed');
  });
  registerListeners(app, ctx);
  return {
    mode: settings.appToken ? 'socket' : 'http',
    listener,
    client,
    async start() {
      if (settings.appToken) await app.start();
    },
    async stop() {
      if (settings.appToken) await app.stop();
    },
  };
}
