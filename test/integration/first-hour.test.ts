import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { onRealPostgres } from '../support/db.ts';
import { writeConfigFile } from '../support/processes.ts';

/**
 * A new user's first hour, as they would meet it: `npm start`'s entry point run as a real process
 * on an embedded database in a folder of its own. Two instances on one data directory, a port in
 * use, and an API token that must survive a restart.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const running: ChildProcess[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await stop(c);
});

interface Started {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
}

/** Runs `src/main.ts` as `npm start` would, on `dataDir`, with Slack off. */
function run(dataDir: string, env: Record<string, string> = {}): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_CONFIG: writeConfigFile(), COUNTERSIGN_SANDBOX: 'off', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

/** Waits for `re` in the output and returns its first group; fails when the process exits first. */
async function waitForOutput(s: Started, re: RegExp): Promise<string> {
  const deadline = Date.now() + 75_000;
  for (;;) {
    const m = re.exec(s.output());
    if (m) return m[1];
    if (s.child.exitCode !== null) throw new Error(`exited early:\n${s.output()}`);
    if (Date.now() > deadline) throw new Error(`did not print ${re}:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const listening = (s: Started): Promise<string> => waitForOutput(s, /"url":"(http:\/\/[^"]+)"[^\n]*Countersign is listening/);
/** The generated token is printed after the listening line: wait for it, not just for the port. */
const printedToken = (s: Started): Promise<string> => waitForOutput(s, /Bearer (\S+)"/);

function stop(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

// These are about the embedded database, whatever database the suite runs on: once is enough.
const embeddedOnly = describe.skipIf(onRealPostgres());

const tempDataDir = () => join(mkdtempSync(join(tmpdir(), 'countersign-first-hour-')), 'pglite');

embeddedOnly('two instances on one embedded data directory', () => {
  it('when a second instance starts on the same data directory, then it exits at once naming the first pid, and the first keeps serving', async () => {
    const dataDir = tempDataDir();
    const first = run(dataDir);
    const url = await listening(first);
    const before = readdirSync(dataDir).length;
    // The same port too, as a second `npm start` would: the data directory is what to name, not the port.
    const second = run(dataDir, { PORT: new URL(url).port });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`Countersign is already running on this data directory (pid ${first.child.pid}); stop it or set COUNTERSIGN_DATA_DIR`);
    expect(second.output()).not.toMatch(/Aborted|at .*\.js:\d+/);
    expect(readdirSync(dataDir).length).toBe(before);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  }, 180_000);

  it('when the lock was left by a process that died, then the next start takes it over', async () => {
    const dataDir = tempDataDir();
    const first = run(dataDir);
    await listening(first);
    first.child.kill('SIGKILL');
    await first.exited;
    const again = run(dataDir);
    expect(await listening(again)).toMatch(/^http:/);
  }, 180_000);
});

embeddedOnly('a port in use', () => {
  let blocker: Server;
  afterEach(() => new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r())));

  it('when the port is taken, then it says so in one line, exits non-zero, and never opens the database', async () => {
    blocker = createServer();
    const port = await new Promise<number>((r) => blocker.listen(0, '127.0.0.1', () => r((blocker.address() as { port: number }).port)));
    const dataDir = tempDataDir();
    const s = run(dataDir, { PORT: String(port) });
    expect(await s.exited).toBe(1);
    expect(s.output().trim()).toBe(`Port ${port} is in use; set PORT=… (or stop the other process)`);
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  }, 60_000);
});

embeddedOnly('the generated API token', () => {
  it('when no tokens are configured, then the token is kept in the data directory (mode 600) and still works after a restart; a 401 says where it comes from', async () => {
    const dataDir = tempDataDir();
    const first = run(dataDir, { COUNTERSIGN_API_TOKENS: '' });
    const url = await listening(first);
    const token = await printedToken(first);
    expect(token).toMatch(/^[\w-]{32}$/);
    expect(first.output()).toContain(`kept in ${dataDir}.api-token`);
    expect(statSync(`${dataDir}.api-token`).mode & 0o777).toBe(0o600);
    const unauthorized = await fetch(`${url}/api/changes`);
    expect(unauthorized.status).toBe(401);
    expect(((await unauthorized.json()) as { message: string }).message).toContain(`${dataDir}.api-token`);
    await stop(first.child);

    const second = run(dataDir, { COUNTERSIGN_API_TOKENS: '' });
    const url2 = await listening(second);
    expect((await fetch(`${url2}/api/changes`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  }, 240_000);

  it('when COUNTERSIGN_API_TOKENS is set, then it wins over the kept token', async () => {
    const dataDir = tempDataDir();
    const first = run(dataDir, { COUNTERSIGN_API_TOKENS: '' });
    await listening(first);
    const kept = await printedToken(first);
    await stop(first.child);
    const second = run(dataDir, { COUNTERSIGN_API_TOKENS: 'ci:configured-token-1' });
    const url = await listening(second);
    expect((await fetch(`${url}/api/changes`, { headers: { authorization: `Bearer ${kept}` } })).status).toBe(401);
    expect((await fetch(`${url}/api/changes`, { headers: { authorization: 'Bearer configured-token-1' } })).status).toBe(200);
  }, 240_000);
});
