import type { Database } from '../../db/client.ts';
import { deadRows, failingRows, outboxStats, retryDead } from '../../db/repositories/outbox.ts';
import { HttpError } from '../errors.ts';
import type { HttpServer } from '../server.ts';

/**
 * `GET /api/outbox/stats`: depth, oldest pending age, the rows that keep failing and the dead ones.
 * `POST /api/outbox/:id/retry` (scope admin): requeues a dead row once its cause is fixed.
 */
export function registerOutboxRoutes(server: HttpServer, database: Database): void {
  server.route('GET', '/api/outbox/stats', async () => ({
    status: 200,
    body: { ...(await outboxStats(database)), failing_rows: await failingRows(database), dead_rows: await deadRows(database) },
  }));

  server.route(
    'POST',
    '/api/outbox/:id/retry',
    async (ctx) => {
      const id = /^\d{1,15}$/.test(ctx.params.id) ? Number(ctx.params.id) : null;
      if (id === null) throw new HttpError(400, { error: 'validation_failed', message: 'id: expected an outbox row id (digits)', issues: [{ path: 'id', message: 'expected an outbox row id (digits)' }] });
      if (!(await retryDead(database.db, id))) throw new HttpError(404, { error: 'not_found', message: `there is no dead outbox row ${id} (only dead rows can be retried)` });
      ctx.log.info({ outbox_id: id, caller: ctx.caller }, 'outbox: dead row requeued');
      return { status: 200, body: { id, status: 'pending' } };
    },
    { scope: 'admin' },
  );
}
