import type { Database } from '../../db/client.ts';
import { failingRows, outboxStats } from '../../db/repositories/outbox.ts';
import type { HttpServer } from '../server.ts';

/** `GET /api/outbox/stats`: depth, oldest pending age, and the rows that keep failing. */
export function registerOutboxRoutes(server: HttpServer, database: Database): void {
  server.route('GET', '/api/outbox/stats', async () => ({
    status: 200,
    body: { ...(await outboxStats(database)), failing_rows: await failingRows(database) },
  }));
}
