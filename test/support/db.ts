import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { inject } from 'vitest';
import { fromPglite, openPostgres, type Database } from '../../src/db/client.ts';
import { withDatabase } from './global-setup.ts';

export const onRealPostgres = (): boolean => inject('db').kind === 'postgres';

/** A fresh, migrated database of its own for one test file: a PGlite loaded from the template dump, or a new Postgres database. */
export async function createTestDatabase(): Promise<Database & { url?: string }> {
  const ctx = inject('db');
  if (ctx.kind === 'pglite') {
    const pg = new PGlite({ loadDataDir: new Blob([readFileSync(ctx.dumpFile)]) });
    await pg.waitReady;
    return fromPglite(pg);
  }
  const name = `cs_t_${ctx.template.slice(8)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(ctx.adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template ${ctx.template}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(ctx.adminUrl, name);
  return Object.assign(openPostgres(url), { url });
}

/**
 * Empties every table between tests. The audit tables refuse TRUNCATE by trigger, so the test
 * harness switches triggers off for its own transaction (replica mode, as a superuser may).
 */
export async function truncateAll(db: Database): Promise<void> {
  const { sql } = await import('drizzle-orm');
  const tables = await db.rows<{ tablename: string }>(sql`select tablename from pg_tables where schemaname = 'public'`);
  if (tables.length === 0) return;
  await db.db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(sql.raw(`truncate ${tables.map((t) => `"${t.tablename}"`).join(', ')} restart identity cascade`));
  });
}
