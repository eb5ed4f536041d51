import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The production build (`npm run build`, scripts/build.mjs) as production runs it: plain `node` on the
 * bundles, no tsx. The build goes into a temporary folder inside the project (the bundles import packages
 * from the project's node_modules, and the server finds drizzle/ from the nearest package.json).
 */

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const TOKEN = 'production-build-test-token';
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

let out: string;
beforeAll(async () => {
  // Inside the project (the bundles import its node_modules); test-results/ is ignored by git and may not exist yet.
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  out = mkdtempSync(join(ROOT, 'test-results', 'production-build-'));
  await run(process.execPath, ['scripts/build.mjs', '--outdir', out], { cwd: ROOT });
}, 60_000);
afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

/** Every package a bundle imports (static and dynamic imports; esbuild keeps node_modules external). */
function importedPackages(file: string): string[] {
  const code = readFileSync(join(out, file), 'utf8');
  const specifiers = [...code.matchAll(/(?:^import\s[^;]*?from\s*|^import\s*|\bimport\()\s*["']([^"']+)["']/gm)].map((m) => m[1]);
  return [...new Set(specifiers.filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtinModules.includes(s)).map((s) => s.split('/').slice(0, s.startsWith('@') ? 2 : 1).join('/')))].sort();
}

/** Resolves with the exit code once the child ends. */
const exited = (child: ChildProcess) => new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));

describe('the production build', () => {
  it('writes the server, the CLI and the sandbox files; the bundles import only production dependencies', () => {
    for (const file of ['main.js', 'cli.js', 'public/index.html', 'public/app.js', 'public/blockkit.js', 'public/style.css', 'presets/plan-destructive.json']) {
      expect(() => readFileSync(join(out, file)), file).not.toThrow();
    }
    const server = importedPackages('main.js');
    expect(server).toEqual(expect.arrayContaining(['@electric-sql/pglite', '@slack/bolt', 'drizzle-orm', 'postgres', 'pino']));
    for (const name of [...server, ...importedPackages('cli.js')]) expect(Object.keys(pkg.dependencies), `${name} is imported at run time`).toContain(name);
    for (const file of ['main.js', 'cli.js']) expect(readFileSync(join(out, file), 'utf8')).not.toMatch(/from\s*["'][^"']+\.ts["']|["']tsx(\/[^"']*)?["']/);
  });

  it('`node main.js` serves /readyz on in-memory PGlite, then stops on SIGTERM with exit 0; the compiled CLI talks to it', async () => {
    // cwd is the build folder: migrations are found from the project root, not from the working directory.
    const child = spawn(process.execPath, [join(out, 'main.js')], {
      cwd: out,
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: 'memory://',
        COUNTERSIGN_SANDBOX: 'off',
        COUNTERSIGN_CONFIG: join(ROOT, 'countersign.yml'),
        COUNTERSIGN_API_TOKENS: `ci:${TOKEN}`,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    try {
      const url = await new Promise<string>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no "Countersign is listening" line in 45 s:\n${output}`)), 45_000);
        child.stdout!.on('data', () => {
          const line = output.split('\n').find((l) => l.includes('"Countersign is listening"'));
          if (line) {
            clearTimeout(timer);
            res((JSON.parse(line) as { url: string }).url);
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          rej(new Error(`node main.js exited with ${code}:\n${output}`));
        });
      });
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status, output).toBe(200);

      const cli = await run(process.execPath, [join(out, 'cli.js'), 'submit', '--title', 'Production build check', '--service', 'checkout', '--environment', 'production', '--author-github', 'alice'], {
        cwd: out,
        env: { PATH: process.env.PATH ?? '', COUNTERSIGN_URL: url, COUNTERSIGN_TOKEN: TOKEN },
      });
      expect(cli.stdout).toMatch(/^CHG-\d+ registered: /);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited(child), output).toBe(0);
  }, 60_000);

  it('the compiled CLI prints its help and exits 0', async () => {
    const { stdout } = await run(process.execPath, [join(out, 'cli.js'), 'help'], { cwd: out, env: { PATH: process.env.PATH ?? '' } });
    expect(stdout).toContain('countersign submit');
    expect(stdout).toContain('countersign wait');
  });
});
