import type { Config } from '../../src/config/schema.ts';
import type { Database } from '../../src/db/client.ts';
import type { Clock } from '../../src/domain/types.ts';
import { start, type RunningApp, type StartOptions } from '../../src/main.ts';
import { createLogger } from '../../src/logger.ts';
import { buildConfig } from '../factories/config.ts';

export const API_TOKEN = 'test-token-123456';
/** A token with the breakglass scope (the default `ci` token has submit, read and deploy only). */
export const ONCALL_TOKEN = 'oncall-token-123456';
/** A token with the admin scope (e.g. requeueing dead outbox rows). */
export const ADMIN_TOKEN = 'ops-admin-token-123456';

/** A settable clock for tests. */
export function fakeClock(start = new Date('2026-11-02T10:00:00Z')): Clock & { set(d: Date): void; advance(ms: number): void } {
  let now = start.getTime();
  return { now: () => new Date(now), set: (d) => (now = d.getTime()), advance: (ms) => (now += ms) };
}

export interface TestApp extends RunningApp {
  /** Calls the API with the test token; returns status and parsed JSON. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
}

/** Starts the whole app in-process on a free port, on the given database. */
export async function startTestApp(opts: { database: Database; config?: Config; clock?: Clock; env?: Record<string, string>; outbox?: Record<string, number>; keepDatabase?: boolean; scheduler?: boolean; http?: StartOptions['http']; githubOutbox?: StartOptions['githubOutbox'] }): Promise<TestApp> {
  const app = await start({
    env: { COUNTERSIGN_API_TOKENS: `ci:${API_TOKEN},other:other-token-123,oncall:${ONCALL_TOKEN}:breakglass+read,ops:${ADMIN_TOKEN}:admin`, HOST: '127.0.0.1', LOG_LEVEL: 'silent', COUNTERSIGN_SANDBOX: 'off', ...opts.env },
    config: opts.config ?? buildConfig(),
    database: opts.database,
    clock: opts.clock,
    logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', { pretty: false }),
    port: 0,
    outbox: opts.outbox,
    scheduler: opts.scheduler ?? false,
    http: opts.http,
    githubOutbox: opts.githubOutbox ?? { pollMs: 20, backoffBaseMs: 50, backoffMaxMs: 300 },
  });
  const stopApp = app.stop;
  return Object.assign(app, {
    /** Stops the app and closes its database, unless `keepDatabase` (a restart on the same data follows). */
    async stop() {
      await stopApp();
      if (!opts.keepDatabase) await opts.database.close().catch(() => {});
    },
    async api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(app.url + path, {
        method,
        headers: { authorization: `Bearer ${API_TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      return { status: res.status, body: parsed, headers: res.headers };
    },
  });
}
