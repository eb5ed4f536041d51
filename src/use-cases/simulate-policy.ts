import { parseDocument } from 'yaml';
import { z } from 'zod';
import { fieldIssues } from '../config/issues.ts';
import { configSchema, type Config } from '../config/schema.ts';
import { simulationRows } from '../db/repositories/simulation.ts';
import type { FieldIssue } from '../domain/errors.ts';
import { PolicySimulation, type SimulationReport } from '../domain/simulation.ts';
import type { Deps } from './ports.ts';

const DAY_MS = 86_400_000;

const requestSchema = z.strictObject({
  config: z.union([z.string(), z.record(z.string(), z.unknown())], { error: (i) => (i.input === undefined ? 'is required' : 'expected the candidate config as YAML text or an object') }),
  days: z.number({ error: 'expected a whole number of days from 1 to 365' }).int('expected a whole number of days from 1 to 365').min(1, 'expected a whole number of days from 1 to 365').max(365, 'expected a whole number of days from 1 to 365').default(30),
});

export interface SimulationRequest {
  candidate: Config;
  days: number;
}

/**
 * A `POST /api/policy/simulate` body: `{ config, days }`. The candidate config (YAML text or an
 * object) is validated as the server validates its own at start (the same YAML options and schema);
 * its problems are named under `config.` (`config.policy.rules[0].when.paths[0]`), all at once.
 */
export function parseSimulationRequest(body: unknown): { ok: true; request: SimulationRequest } | { ok: false; issues: FieldIssue[] } {
  const parsed = requestSchema.safeParse(body ?? {});
  const issues = parsed.success ? [] : fieldIssues(parsed.error);
  const raw = (body as { config?: unknown } | null)?.config;
  const candidate = typeof raw === 'string' || (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) ? parseCandidateConfig(raw) : null;
  if (candidate && !candidate.ok) issues.push(...candidate.issues);
  if (!parsed.success || !candidate?.ok) return { ok: false, issues };
  return { ok: true, request: { candidate: candidate.config, days: parsed.data.days } };
}

/** A config as YAML text or as an object, validated like `loadConfigFile`; issues are named under `config`. */
export function parseCandidateConfig(value: string | object): { ok: true; config: Config } | { ok: false; issues: FieldIssue[] } {
  let raw: unknown = value;
  if (typeof value === 'string') {
    const doc = parseDocument(value, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) return { ok: false, issues: doc.errors.map((e) => ({ path: 'config', message: `not valid YAML: ${e.message}` })) };
    try {
      raw = doc.toJS();
    } catch (err) {
      return { ok: false, issues: [{ path: 'config', message: `not usable YAML: ${(err as Error).message}` }] };
    }
  }
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, issues: fieldIssues(result.error).map((i) => ({ ...i, path: i.path === '(root)' ? 'config' : `config.${i.path}` })) };
}

// One simulation at a time per process: it reads every change of up to a year.
let running = false;

/** True while a simulation runs in this process. */
export const simulationRunning = (): boolean => running;

/**
 * Re-decides every change created in [now − days, now] under the candidate config and under the
 * running one, from the stored facts, and replays reviewer assignment under the candidate. Reads
 * the changes with one query and writes nothing. `busy` when another simulation is running.
 */
export async function simulatePolicy(deps: Deps, request: SimulationRequest): Promise<SimulationReport | 'busy'> {
  if (running) return 'busy';
  running = true;
  try {
    const to = deps.clock.now();
    const from = new Date(to.getTime() - request.days * DAY_MS);
    // When the running config assigns nobody, who really reviewed is who signed off.
    const actualFrom = deps.config.review.assignment === 'least_loaded' ? 'assigned_to' : 'sign_offs';
    const simulation = new PolicySimulation({ current: deps.config, candidate: request.candidate, from, to, actualFrom });
    for (const row of await simulationRows(deps.database, from, to, { signers: actualFrom === 'sign_offs' })) simulation.add(row);
    return simulation.report();
  } finally {
    running = false;
  }
}
