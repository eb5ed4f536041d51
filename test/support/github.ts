import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { generateAppKeyPair, startFakeGitHub, type FakeGitHub } from '../fakes/fake-github.ts';
import { createTestDatabase } from './db.ts';

export interface GithubWorld {
  /** The App's key pair: the fake GitHub checks JWTs against its public key. */
  keys: ReturnType<typeof generateAppKeyPair>;
  gh: FakeGitHub;
  db: Database;
}

/**
 * For one test file: a fake GitHub (App id 123, one installation of `repo` by "acme") and a test
 * database of its own, started before the file's tests and stopped after them.
 */
export function useFakeGitHub(opts: { installation: number; repo: string }): GithubWorld {
  const world = { keys: generateAppKeyPair() } as GithubWorld;
  beforeAll(async () => {
    world.gh = await startFakeGitHub({ appId: 123, publicKey: world.keys.publicKeyPem, installations: [{ id: opts.installation, account: 'acme', repos: [opts.repo] }] });
    world.db = await createTestDatabase();
  });
  afterAll(async () => {
    await world.gh?.stop();
    await world.db?.close().catch(() => {});
  });
  return world;
}
