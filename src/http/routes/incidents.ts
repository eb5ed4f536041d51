import type { Deps } from '../../use-cases/ports.ts';
import type { HttpServer } from '../server.ts';

/** Deployments, incidents, Alertmanager and stats routes (issue: incidents). */
export function registerIncidentRoutes(_server: HttpServer, _deps: Deps): void {}
