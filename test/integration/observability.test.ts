import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { start, type RunningApp } from '../../src/main.ts';
import { buildChangeInput } from '../factories/change.ts';
import { buildConfig } from '../factories/config.ts';
import { startFakeSlack, type SlackStandin } from '../fakes/fake-slack.ts';
import { createTestDatabase } from '../support/db.ts';

const TOKEN = 'obs-secret-token-987654';
const SIGNING = 'obs-signing-secret-123';
const BOT = 'xoxb-obs-bot-token-555';

describe('metrics and logs', () => {
  let app: RunningApp;
  let slack: SlackStandin;
  let logs = '';
  const sink = new Writable({ write(chunk, _enc, cb) { logs += chunk.toString(); cb(); } });

  beforeAll(async () => {
    slack = await startFakeSlack({ signingSecret: SIGNING });
    app = await start({
      env: { COUNTERSIGN_API_TOKENS: `ci:${TOKEN}`, HOST: '127.0.0.1', SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SIGNING, SLACK_API_URL: slack.apiUrl },
      config: buildConfig(),
      database: await createTestDatabase(),
      logger: createLogger('trace', { destination: sink }),
      port: 0,
      scheduler: false,
    });
  });
  afterAll(async () => {
    await app?.stop();
    await slack?.stop();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(app.url + path, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers } });

  it('when scraped, then /metrics (no token) reports request durations by route, outbox depth, changes by status and open incidents', async () => {
    await call('/api/changes', { method: 'POST', body: JSON.stringify(buildChangeInput()) });
    await call('/api/changes/CHG-1/gate');
    await call('/api/changes/CHG-404');
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/countersign_http_request_duration_seconds_count\{method="POST",route="\/api\/changes",status="201"\} 1/);
    expect(text).toMatch(/countersign_http_request_duration_seconds_count\{method="GET",route="\/api\/changes\/:key\/gate",status="202"\} 1/);
    expect(text).toMatch(/countersign_changes\{status="pending"\} 1/);
    expect(text).toMatch(/countersign_outbox_depth \d+/);
    expect(text).toMatch(/countersign_outbox_oldest_age_seconds \d+/);
    expect(text).toMatch(/countersign_incidents_open 0/);
    expect(text).toContain('countersign_slack_ack_seconds');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('when requests carry tokens and signatures, then no token, signing secret or Authorization header reaches the logs', async () => {
    await call('/api/changes', { method: 'POST', body: '{"broken": ' });
    await fetch(`${app.url}/slack/events`, { method: 'POST', headers: { 'x-slack-signature': 'v0=deadbeef', 'x-slack-request-timestamp': '1', authorization: `Bearer ${TOKEN}` }, body: 'payload=x' });
    const log = createLogger('info', { destination: sink });
    log.info({ req: { headers: { authorization: `Bearer ${TOKEN}` } }, token: TOKEN, config: { token: BOT }, signingSecret: SIGNING }, 'a line with secrets in it');
    await new Promise((r) => setTimeout(r, 100));
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).toContain('[redacted]');
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(SIGNING);
    expect(logs).not.toContain(BOT);
    // Structured JSON with a request id.
    const lines = logs.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => typeof l.reqId === 'string')).toBe(true);
  });
});
