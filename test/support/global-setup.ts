import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openPglite, openPostgres } from '../../src/db/client.ts';

/**
 * Migrates one template database for the whole run. On PGlite the template is dumped to a file
 * that each test file loads (much faster than a fresh instance); on real Postgres each test file
 * creates its own database from a migrated template database.
 */
export default async function setup(project: TestProject) {
  const url = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (url && /^postgres/.test(url)) {
    const template = `cs_tmpl_${randomBytes(4).toString('hex')}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${template}`);
    const tdb = openPostgres(withDatabase(url, template), { max: 1 });
    await tdb.migrate();
    await tdb.close();
    project.provide('db', { kind: 'postgres', adminUrl: url, template });
    return async () => {
      const dbs = await admin<{ datname: string }[]>`select datname from pg_database where datname like ${`cs_t_${template.slice(8)}_%`} or datname = ${template}`;
      for (const { datname } of dbs) await admin.unsafe(`drop database if exists ${datname} with (force)`);
      await admin.end();
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'countersign-test-'));
  const pg = await openPglite(null);
  await pg.migrate();
  const dump = await pg.pglite!.dumpDataDir('none');
  const file = join(dir, 'template.tar');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  await pg.close();
  project.provide('db', { kind: 'pglite', dumpFile: file });
  return () => rmSync(dir, { recursive: true, force: true });
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    db: { kind: 'postgres'; adminUrl: string; template: string } | { kind: 'pglite'; dumpFile: string };
  }
}
