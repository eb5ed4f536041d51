import { parseStatsDays, reportStats } from '../../use-cases/report-stats.ts';
import type { Deps } from '../../use-cases/ports.ts';
import { badRequest } from '../errors.ts';
import type { HttpServer } from '../server.ts';

/** `GET /api/stats?days=30`: sign-off, incident and break-glass statistics. */
export function registerStatsRoutes(server: HttpServer, deps: Deps): void {
  server.route('GET', '/api/stats', async (ctx) => {
    const unknown = [...ctx.query.keys()].filter((k) => k !== 'days');
    if (unknown.length) throw badRequest(unknown.map((k) => ({ path: k, message: 'unknown query parameter' })), 'the query is invalid');
    const days = parseStatsDays(ctx.query.get('days'));
    if (days === null) throw badRequest([{ path: 'days', message: 'expected a whole number of days from 1 to 365' }], 'the query is invalid');
    return { status: 200, body: await reportStats(deps, { days }) };
  });
}
