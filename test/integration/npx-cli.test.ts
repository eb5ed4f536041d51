import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The documented way to reach the CLI from a checkout (issue 13 item 7): under npm 11,
 * `npx --no countersign --help` prints npm's own help, so the docs use `npx --no countersign help`.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function npx(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Offline: it must resolve the repository's own bin, never fetch a package called countersign.
    const env = { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false', NO_COLOR: '1' };
    execFile('npx', args, { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe('npx in the repository root', () => {
  it('when `npx --no countersign help` runs, then it reaches our CLI: our usage, exit 0, offline', async () => {
    const res = await npx(['--no', 'countersign', 'help']);
    expect(res.stderr).not.toMatch(/npm error/);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^countersign: register changes with Countersign/);
    expect(res.stdout).toContain('countersign submit --title T --service S');
    expect(res.stdout).not.toContain('Run a command from a local or remote npm package');
  }, 70_000);
});
