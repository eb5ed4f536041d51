import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgDialect, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A database handle or a transaction: repositories accept either. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

/**
 * Project root: the nearest folder above this code that holds a package.json, so it is the same whether
 * this file runs as src/db/client.ts (tsx, tests) or bundled into dist/main.js (`npm run build`).
 */
export const PROJECT_ROOT = projectRoot(dirname(fileURLToPath(import.meta.url)));
/** The committed migrations, unless COUNTERSIGN_MIGRATIONS_DIR (read by main.ts through the env schema) says otherwise. */
export const DEFAULT_MIGRATIONS_DIR = resolve(PROJECT_ROOT, 'drizzle');

function projectRoot(from: string): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) if (existsSync(join(dir, 'package.json'))) return dir;
  return resolve(from, '../..');
}

/** Where the database's migrations are read from (default `DEFAULT_MIGRATIONS_DIR`). */
export interface OpenOptions {
  migrationsDir?: string;
}

/** Advisory lock key that serialises migrations across replicas ("cs-migr" as an int). */
const MIGRATION_LOCK = 0x63736d67;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Applies the committed drizzle migrations. */
  migrate(): Promise<void>;
  /**
   * Runs a raw query and returns its rows, whichever driver is underneath. `prepared`: on Postgres,
   * as a named prepared statement (parsed and planned once per connection); only for hot queries
   * whose text takes few shapes, since each shape stays prepared on every connection.
   */
  rows<T = Record<string, unknown>>(query: SQL, opts?: { prepared?: boolean }): Promise<T[]>;
  /** True when the database answers and every migration is applied. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
  /** The PGlite instance (tests clone it); undefined on postgres. */
  pglite?: PGlite;
}

export type DatabaseTarget =
  | { kind: 'postgres'; url: string }
  | { kind: 'pglite'; dataDir: string | null };

/** `postgres://…` → real Postgres; unset → PGlite persisted in `dataDir`; `memory://` → in-memory PGlite. */
export function databaseTarget(url: string | undefined, dataDir: string): DatabaseTarget {
  if (!url) return { kind: 'pglite', dataDir };
  if (url === 'memory://' || url === 'memory:') return { kind: 'pglite', dataDir: null };
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url };
  throw new Error('DATABASE_URL: expected postgres://…, memory:// or unset (embedded database in .data/)');
}

async function expectedMigrations(migrationsDir: string): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const journal = JSON.parse(readFileSync(resolve(migrationsDir, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

function wrap(db: Db, kind: Database['kind'], migrationsDir: string, run: (q: SQL, prepared: boolean) => Promise<unknown>, extra: Pick<Database, 'migrate' | 'close'> & { pglite?: PGlite }): Database {
  const rows = async <T>(q: SQL, opts?: { prepared?: boolean }): Promise<T[]> => {
    const r = await run(q, opts?.prepared === true);
    return (Array.isArray(r) ? r : (r as { rows: T[] }).rows) as T[];
  };
  let migrationsNeeded: number | null = null;
  return {
    db,
    kind,
    rows,
    ...extra,
    async ready() {
      try {
        migrationsNeeded ??= await expectedMigrations(migrationsDir);
        const [r] = await rows<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
        return r.n >= migrationsNeeded;
      } catch {
        return false;
      }
    },
  };
}

/** Opens real Postgres through postgres.js. Migrations run on their own single-connection client. */
export function openPostgres(url: string, opts: { max?: number } & OpenOptions = {}): Database {
  const migrationsFolder = opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const client = postgres(url, { max: opts.max ?? 10, onnotice: () => {}, connect_timeout: 5, idle_timeout: 30 });
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  const dialect = (db as unknown as { dialect: PgDialect }).dialect;
  const run = (q: SQL, prepared: boolean) => {
    if (!prepared) return db.execute(q);
    // drizzle sends its queries unprepared; the same text and parameters, prepared by postgres.js.
    const { sql: text, params } = dialect.sqlToQuery(q);
    return client.unsafe(text, params as never[], { prepare: true });
  };
  return wrap(db, 'postgres', migrationsFolder, run, {
    async migrate() {
      // One connection, holding a session advisory lock: replicas starting together migrate one at a time.
      const mc = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await mc`select pg_advisory_lock(${MIGRATION_LOCK})`;
        await migratePostgres(drizzlePostgres(mc), { migrationsFolder });
        await mc`select pg_advisory_unlock(${MIGRATION_LOCK})`;
      } finally {
        await mc.end();
      }
    },
    close: () => client.end({ timeout: 5 }),
  });
}

/**
 * Wraps an existing PGlite instance (tests hand in a clone of a migrated template). PGlite and its
 * drizzle driver are imported here, on first use, so a server on Postgres never loads them.
 */
export async function fromPglite(pg: PGlite, opts: OpenOptions = {}): Promise<Database> {
  const migrationsFolder = opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const [{ drizzle }, { migrate }] = await Promise.all([import('drizzle-orm/pglite'), import('drizzle-orm/pglite/migrator')]);
  const db = drizzle(pg, { schema }) as unknown as Db;
  return wrap(db, 'pglite', migrationsFolder, (q) => db.execute(q), {
    migrate: () => migrate(drizzle(pg), { migrationsFolder }),
    close: () => pg.close(),
    pglite: pg,
  });
}

/** Opens embedded PGlite, on disk (created on first run) or in memory. */
export async function openPglite(dataDir: string | null, opts: OpenOptions = {}): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const pg = dataDir ? new PGlite(dataDir) : new PGlite();
  await pg.waitReady;
  return fromPglite(pg, opts);
}

export async function openDatabase(target: DatabaseTarget, opts: OpenOptions = {}): Promise<Database> {
  return target.kind === 'postgres' ? openPostgres(target.url, opts) : openPglite(target.dataDir, opts);
}
