import { parseSimulationRequest, simulatePolicy } from '../../use-cases/simulate-policy.ts';
import type { Deps } from '../../use-cases/ports.ts';
import { badRequest, HttpError } from '../errors.ts';
import type { HttpServer } from '../server.ts';

/** How long a caller turned away by a running simulation should wait (a year of changes takes a few seconds). */
const BUSY_RETRY_AFTER_S = 5;

/** `POST /api/policy/simulate`: what a candidate config would have decided for the changes of the last `days` days. Writes nothing. */
export function registerPolicyRoutes(server: HttpServer, deps: Deps): void {
  server.route(
    'POST',
    '/api/policy/simulate',
    async (ctx) => {
      const parsed = parseSimulationRequest(await ctx.json());
      if (!parsed.ok) throw badRequest(parsed.issues);
      const report = await simulatePolicy(deps, parsed.request);
      if (report === 'busy') {
        throw new HttpError(429, { error: 'simulation_busy', message: `another policy simulation is running on this server; retry in ${BUSY_RETRY_AFTER_S} s` }, { 'retry-after': String(BUSY_RETRY_AFTER_S) });
      }
      return { status: 200, body: report };
    },
    { scope: 'read' },
  );
}
