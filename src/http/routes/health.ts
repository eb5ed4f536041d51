import type { Database } from '../../db/client.ts';
import type { HttpServer } from '../server.ts';

/** `/healthz`: the process is up. `/readyz`: the database answers, migrations are applied, and we are not shutting down. */
export function registerHealthRoutes(server: HttpServer, database: Database, isStopping: () => boolean, details: () => Promise<Record<string, unknown>> = async () => ({})): void {
  server.route('GET', '/healthz', async () => ({ status: 200, body: { status: 'ok' } }), { auth: false });
  server.route('GET', '/readyz', async () => {
    if (isStopping()) return { status: 503, body: { status: 'stopping' } };
    const ready = await withTimeout(database.ready(), 2_000, false);
    if (!ready) return { status: 503, body: { status: 'unavailable', database: 'unreachable or not migrated' } };
    return { status: 200, body: { status: 'ready', database: database.kind, ...(await details().catch(() => ({}))) } };
  }, { auth: false });
}

function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return Promise.race([p, new Promise<T>((r) => setTimeout(() => r(fallback), ms).unref())]);
}
