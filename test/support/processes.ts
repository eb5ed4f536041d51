import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { TEST_CONFIG_RAW } from '../factories/config.ts';
import { API_TOKEN } from './app.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** Writes a config file for child processes (the test config, with overrides). */
export function writeConfigFile(overrides: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-cfg-'));
  const file = join(dir, 'countersign.yml');
  writeFileSync(file, stringify({ ...structuredClone(TEST_CONFIG_RAW), ...overrides }));
  return file;
}

export interface AppProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the app as a separate process and waits for its READY line. */
export async function spawnApp(env: Record<string, string>, timeoutMs = 30_000): Promise<AppProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/run-app.ts')], {
    cwd: ROOT,
    env: { ...process.env, COUNTERSIGN_API_TOKENS: `ci:${API_TOKEN}`, HOST: '127.0.0.1', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`app did not start:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`app exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    kill: (signal = 'SIGKILL') =>
      new Promise((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r();
        child.once('exit', () => r());
        child.kill(signal);
      }),
  };
}

/** Calls a running process's API with the test token. */
export async function callApi(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${API_TOKEN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/countersign.mjs …` as a child process, asynchronously (an in-process server must
 * keep answering), with a bare environment: PATH, HOME and `env`. `cwd` defaults to the repository.
 */
export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string; onStderr?: (soFar: string) => void } = {}): Promise<CliResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/countersign.mjs'), ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(stderr);
    });
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}
