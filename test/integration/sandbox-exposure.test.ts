import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.ts';
import { SlackStandin } from '../../src/sandbox/slack-standin.ts';
import { buildChangeInput } from '../factories/change.ts';
import { API_TOKEN, startTestApp, type TestApp } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';

/** The sandbox has no sign-in: each test reproduces a way it leaked or could be reached from elsewhere. */

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ database: await createTestDatabase(), env: { COUNTERSIGN_SANDBOX: 'on' } });
});
afterAll(() => app?.stop());

/** A GET with an explicit Host header (fetch does not let a page choose it; a rebinding attacker's browser sends theirs). */
function getWithHost(path: string, host: string): Promise<{ status: number; body: string }> {
  const url = new URL(app.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: url.port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the sandbox page state', () => {
  it('when API tokens are configured, then the page shows a token made for this run, never a configured one; it cannot break the glass', async () => {
    const state = (await (await fetch(`${app.url}/sandbox/api/state`)).json()) as { api: { token: string } };
    const token = state.api.token as string;
    expect(token).toBeTruthy();
    expect([API_TOKEN, 'other-token-123', 'oncall-token-123456']).not.toContain(token);
    const submit = await fetch(`${app.url}/api/changes`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(buildChangeInput()) });
    expect(submit.status).toBe(201);
    const { key } = (await submit.json()) as { key: string };
    const glass = await fetch(`${app.url}/api/changes/${key}/breakglass`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ by: 'U0CAROL', reason: 'x' }) });
    expect(glass.status).toBe(403);
  });

  it('when no API tokens are configured, then the page still shows its own token for this run, not the generated admin token (kept across restarts when embedded); it cannot break the glass', async () => {
    const bare = await startTestApp({ database: await createTestDatabase(), env: { COUNTERSIGN_SANDBOX: 'on', COUNTERSIGN_API_TOKENS: '' } });
    try {
      expect(bare.generatedToken).toBeTruthy();
      const state = (await (await fetch(`${bare.url}/sandbox/api/state`)).json()) as { api: { token: string } };
      const token = state.api.token;
      expect(token).toMatch(/^[\w-]{32}$/);
      expect(token).not.toBe(bare.generatedToken);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const submit = await fetch(`${bare.url}/api/changes`, { method: 'POST', headers, body: JSON.stringify(buildChangeInput()) });
      expect(submit.status).toBe(201);
      const { key } = (await submit.json()) as { key: string };
      const glass = await fetch(`${bare.url}/api/changes/${key}/breakglass`, { method: 'POST', headers, body: JSON.stringify({ by: 'U0CAROL', reason: 'x' }) });
      expect(glass.status).toBe(403);
      expect(((await glass.json()) as { error: string }).error).toBe('insufficient_scope');
      // The printed token keeps working for the person at the terminal.
      expect((await fetch(`${bare.url}/api/changes`, { headers: { authorization: `Bearer ${bare.generatedToken}` } })).status).toBe(200);
    } finally {
      await bare.stop();
    }
  });

  it('when two Slack stand-ins start, then each has its own random signing secret', () => {
    const [a, b] = [new SlackStandin(), new SlackStandin()];
    expect(a.signingSecret).not.toBe(b.signingSecret);
    expect(a.signingSecret).not.toBe('sandbox-signing-secret');
    expect(a.signingSecret.length).toBeGreaterThanOrEqual(32);
  });
});

describe('DNS rebinding', () => {
  it('when the Host header names another host, then 421 and nothing is served; localhost, 127.0.0.1 and [::1] are served', async () => {
    const port = new URL(app.url).port;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, 'localhost.evil.example']) {
      const res = await getWithHost('/sandbox/api/state', host);
      expect(res.status).toBe(421);
      expect(res.body).not.toContain('token');
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
      expect((await getWithHost('/sandbox/api/state', host)).status).toBe(200);
    }
  });
});

describe('static files', () => {
  it('when a name like constructor or __proto__ is asked for, then 404, not 500', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', '..%2Fmain.ts']) {
      expect((await fetch(`${app.url}/sandbox/static/${name}`)).status).toBe(404);
    }
    expect((await fetch(`${app.url}/sandbox/static/app.js`)).status).toBe(200);
  });
});

describe('refusing to run exposed', () => {
  for (const [env, why] of [
    [{ HOST: '0.0.0.0' }, /HOST is 0\.0\.0\.0, not a loopback address/],
    [{ HOST: '192.168.1.20' }, /HOST is 192\.168\.1\.20/],
    [{ NODE_ENV: 'production' }, /NODE_ENV is production/],
  ] as const) {
    it(`when ${JSON.stringify(env)}, then the sandbox refuses to start and says how to configure Slack`, async () => {
      const db = await createTestDatabase();
      const started = startTestApp({ database: db, env: { COUNTERSIGN_SANDBOX: 'on', ...env } });
      await expect(started).rejects.toBeInstanceOf(ConfigError);
      await expect(started).rejects.toThrow(why);
      await expect(started).rejects.toThrow(/SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET/);
      await db.close();
    });
  }

  it('when HOST is a loopback address (or unset), then the sandbox runs', async () => {
    const other = await startTestApp({ database: await createTestDatabase(), env: { COUNTERSIGN_SANDBOX: 'on', HOST: '127.0.0.1' } });
    expect(other.sandbox).not.toBeNull();
    await other.stop();
  });
});
