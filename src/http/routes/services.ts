import type { Config } from '../../config/schema.ts';
import { describeBlastRadius } from '../../domain/review-brief.ts';
import { notFound } from '../errors.ts';
import type { HttpServer } from '../server.ts';

/** `GET /api/services/:name/blast-radius`: the service plus everything that transitively depends on it, for checking the config. */
export function registerServiceRoutes(server: HttpServer, config: Config): void {
  server.route('GET', '/api/services/:name/blast-radius', async (ctx) => {
    const service = config.services.find((s) => s.name === ctx.params.name);
    if (!service) throw notFound(`service ${ctx.params.name}`);
    const graph = config.resolved.graph;
    const radius = graph.blastRadius([service.name]);
    const distances = graph.dependentsOf(service.name);
    return {
      status: 200,
      body: {
        service: service.name,
        team: service.team,
        count: radius.length,
        services: radius.map((name) => ({ name, distance: name === service.name ? 0 : (distances.get(name) ?? null), team: config.resolved.teamOf(name) ?? null })),
        summary: describeBlastRadius(radius),
      },
    };
  });
}
