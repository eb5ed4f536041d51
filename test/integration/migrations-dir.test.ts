import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { start } from '../../src/main.ts';
import { buildConfig } from '../factories/config.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cs-migrations-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const startWith = (env: Record<string, string>) =>
  start({ env: { DATABASE_URL: 'memory://', COUNTERSIGN_SANDBOX: 'off', COUNTERSIGN_API_TOKENS: 'ci:migrations-test-token', HOST: '127.0.0.1', ...env }, port: 0, config: buildConfig(), logger: createLogger('silent') });

describe('COUNTERSIGN_MIGRATIONS_DIR', () => {
  it('when it names a folder without migrations, then start fails reading that folder instead of using the default', async () => {
    const empty = join(tmp, 'empty');
    await expect(startWith({ COUNTERSIGN_MIGRATIONS_DIR: empty })).rejects.toThrow(/_journal\.json/);
  });

  it('when it names a copy of the migrations, then the server migrates from it and is ready', async () => {
    const copy = join(tmp, 'copy');
    cpSync(resolve(import.meta.dirname, '../../drizzle'), copy, { recursive: true });
    const app = await startWith({ COUNTERSIGN_MIGRATIONS_DIR: copy });
    try {
      expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    } finally {
      await app.stop();
    }
  });
});
