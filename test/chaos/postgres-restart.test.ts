import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChangeInput } from '../factories/change.ts';
import { onRealPostgres } from '../support/db.ts';
import { postgresBin, startPrivatePostgres } from '../support/private-postgres.ts';
import { callApi, spawnApp, writeConfigFile, type AppProcess } from '../support/processes.ts';
import { waitFor } from '../support/slack.ts';

// Needs real PostgreSQL binaries; runs in the real-Postgres pass of the suite, on a private cluster.
describe.runIf(onRealPostgres() && postgresBin() !== null)('Postgres restarted under load', () => {
  let pg: ReturnType<typeof startPrivatePostgres>;
  let app: AppProcess;

  beforeAll(async () => {
    pg = startPrivatePostgres(55_000 + Math.floor(Math.random() * 5_000));
    app = await spawnApp({ DATABASE_URL: pg.url, COUNTERSIGN_CONFIG: writeConfigFile(), COUNTERSIGN_SANDBOX: 'off' });
  }, 60_000);
  afterAll(async () => {
    await app?.kill('SIGTERM');
    pg?.destroy();
  });

  it('when the database goes away and comes back, then requests get a clear 503 meanwhile, the app reconnects by itself, and nothing acknowledged is lost', async () => {
    const acknowledged: string[] = [];
    const statuses: number[] = [];
    let n = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        const id = `load-${n++}`;
        const started = Date.now();
        const res = await callApi(app.url, 'POST', '/api/changes', buildChangeInput({ external_id: id })).catch(() => ({ status: 0, body: null }));
        statuses.push(res.status);
        expect(Date.now() - started, 'no request hangs').toBeLessThan(15_000);
        if (res.status === 201 || res.status === 200) acknowledged.push(id);
        if (res.status === 503) expect(res.body).toMatchObject({ error: 'database_unavailable' });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    await waitFor(() => acknowledged.length >= 20, 20_000, 'load under way');
    pg.stop();
    await waitFor(async () => (await fetch(`${app.url}/readyz`)).status === 503, 15_000, '/readyz 503 while the database is away');
    await waitFor(() => statuses.slice(-3).every((s) => s === 503), 20_000, 'requests answered 503');
    pg.start();
    await waitFor(async () => (await fetch(`${app.url}/readyz`)).status === 200, 30_000, 'reconnected');
    const before = acknowledged.length;
    await waitFor(() => acknowledged.length >= before + 10, 20_000, 'load succeeds again');
    running = false;
    await load;

    expect(statuses.some((s) => s >= 500 && s !== 503)).toBe(false);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    // Every acknowledged change is there.
    const listed = await callApi(app.url, 'GET', '/api/changes?limit=500');
    const stored = new Set(listed.body.changes.map((c: { external_id: string }) => c.external_id));
    for (const id of acknowledged) expect(stored.has(id), `${id} was acknowledged`).toBe(true);
  }, 120_000);
});
