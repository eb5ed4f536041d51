import type { Change } from '../domain/change.ts';
import { activeFreeze } from '../domain/freezes.ts';
import { enforcedGate, type EnforcedGate, type GateContext } from '../domain/status.ts';
import { findChangeByKey } from './get-change.ts';
import type { Deps } from './ports.ts';

/** The artifact a deploy asks about: `?sha=` (a commit) and/or `?plan_sha256=` (a terraform plan digest). */
export interface GateRequest {
  sha?: string;
  plan_sha256?: string;
}

/**
 * What the gate weighs besides the change, from the config and the clock: its team's enforcement
 * (current config, so switching a team to enforce takes effect at once) and a freeze holding now
 * for `environment` (default: the change's) and its services.
 */
export function gateContext(deps: Pick<Deps, 'config' | 'clock'>, change: Pick<Change, 'team' | 'environment' | 'services'>, environment = change.environment): GateContext {
  const r = deps.config.resolved;
  return {
    shadow: r.enforcementOf(change.team) === 'shadow',
    freeze: activeFreeze(r.freezes, { environment, services: change.services }, deps.clock.now()),
  };
}

/**
 * The deploy gate for a change, or null for an unknown key. With an artifact, an approved change
 * opens only for the artifact its approval covers: its head SHA and its plan digest. A freeze
 * closes it (except break-glass); shadow mode never closes it but says what enforce mode would.
 */
export async function checkGate(deps: Deps, key: string, request: GateRequest = {}): Promise<{ change: Change; gate: EnforcedGate } | null> {
  const change = await findChangeByKey(deps, key);
  if (!change) return null;
  return { change, gate: enforcedGate(change, request, gateContext(deps, change)) };
}
