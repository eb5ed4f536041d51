import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, startTestApp, type TestApp } from '../support/app.ts';
import { createTestDatabase } from '../support/db.ts';
import { waitFor } from '../support/slack.ts';

/** Slow and oversized bodies, tried over raw sockets as a hostile client would send them. */

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ database: await createTestDatabase(), http: { requestTimeoutMs: 600 } });
});
afterAll(() => app?.stop());

/** Opens a socket to the app, writes `head`, and collects whatever the server answers until it closes. */
function rawRequest(head: string): { socket: Socket; answer: Promise<string> } {
  const socket = connect(Number(new URL(app.url).port), '127.0.0.1');
  socket.write(head);
  const answer = new Promise<string>((resolve) => {
    let data = '';
    socket.on('data', (c) => (data += c));
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
  });
  return { socket, answer };
}

const headers = (path: string, length: number) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${API_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('slow and large bodies', () => {
  it('when a body trickles in slower than the request timeout, then the server answers 408 and closes the connection', async () => {
    const { socket, answer } = rawRequest(headers('/api/incidents', 1000) + '{"title":');
    const keepDripping = setInterval(() => socket.writable && socket.write(' '), 100);
    const text = await answer;
    clearInterval(keepDripping);
    expect(text).toMatch(/^HTTP\/1\.1 408/);
  });

  it('when Content-Length is over the route’s limit, then 413 comes back before any of the body is sent', async () => {
    const { socket, answer } = rawRequest(headers('/api/incidents', 2 * 1024 * 1024));
    const text = await Promise.race([answer, new Promise<string>((r) => setTimeout(() => r('no answer'), 5_000))]);
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 413/);
    expect(text).toContain('payload_too_large');
  });

  it('when the same size goes to POST /api/changes (terraform plans), then it is within that route’s larger limit', async () => {
    const body = JSON.stringify({ source: 'ci', external_id: 'x', pad: 'x'.repeat(2 * 1024 * 1024) });
    const res = await app.api('POST', '/api/changes', body);
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toContain('pad');
  });

  it('when a client goes away mid-body, then the request is counted as 499 in the metrics, not 200', async () => {
    const { socket } = rawRequest(headers('/api/incidents', 500) + '{"ti');
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await waitFor(async () => (await (await fetch(`${app.url}/metrics`)).text()).includes('route="/api/incidents",status="499"'), 5_000, 'aborted request counted');
  });
});

describe('slow headers and too many connections', () => {
  let tight: TestApp;
  beforeAll(async () => {
    tight = await startTestApp({ database: await createTestDatabase(), http: { requestTimeoutMs: 5_000, headersTimeoutMs: 400, maxConnections: 2 } });
  });
  afterAll(() => tight?.stop());

  const open = () =>
    new Promise<{ socket: Socket; closed: Promise<string> }>((resolve, reject) => {
      const socket = connect(Number(new URL(tight.url).port), '127.0.0.1');
      let data = '';
      socket.on('data', (c) => (data += c));
      const closed = new Promise<string>((r) => socket.on('close', () => r(data)));
      socket.on('error', () => {});
      socket.once('connect', () => resolve({ socket, closed }));
      socket.once('error', reject);
    });
  const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<'still open'>((r) => setTimeout(() => r('still open'), ms))]);

  it('when a client never finishes its headers, then the server answers 408 and closes it at the headers timeout, long before the request timeout', async () => {
    const started = Date.now();
    const { socket, closed } = await open();
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100);
    const text = await within(closed, 4_000);
    clearInterval(drip);
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('when more connections than the cap are opened, then the extra one is closed at once unanswered, and a freed slot serves again', async () => {
    const held = [await open(), await open()];
    await new Promise((r) => setTimeout(r, 100));
    const extra = await open();
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await within(extra.closed, 2_000)).toBe('');
    for (const h of held) expect(h.socket.destroyed).toBe(false);

    held[0].socket.destroy();
    await held[0].closed;
    const next = await waitFor(async () => {
      const c = await open();
      c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      const text = await within(c.closed, 2_000);
      return typeof text === 'string' && text.startsWith('HTTP/1.1 200') ? text : null;
    }, 3_000, 'a freed slot');
    expect(next).toContain('"status":"ok"');
    held[1].socket.destroy();
  });
});
