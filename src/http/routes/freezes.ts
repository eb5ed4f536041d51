import { listFreezes } from '../../use-cases/watch-freezes.ts';
import type { Deps } from '../../use-cases/ports.ts';
import { presentFreezePeriod } from '../present.ts';
import type { HttpServer } from '../server.ts';

/** `GET /api/freezes`: the freezes active now and those starting in the next 30 days, soonest first. */
export function registerFreezeRoutes(server: HttpServer, deps: Deps): void {
  server.route('GET', '/api/freezes', async () => {
    const now = deps.clock.now();
    const periods = listFreezes(deps);
    return {
      status: 200,
      body: {
        now: now.toISOString(),
        active: periods.filter((p) => p.active).map(presentFreezePeriod),
        upcoming: periods.filter((p) => !p.active).map(presentFreezePeriod),
      },
    };
  });
}
