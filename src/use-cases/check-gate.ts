import type { Change } from '../domain/change.ts';
import { gateOf, type GateAnswer } from '../domain/status.ts';
import { findChangeByKey } from './get-change.ts';
import type { Deps } from './ports.ts';

/** The artifact a deploy asks about: `?sha=` (a commit) and/or `?plan_sha256=` (a terraform plan digest). */
export interface GateRequest {
  sha?: string;
  plan_sha256?: string;
}

/**
 * The deploy gate for a change, or null for an unknown key. With an artifact, an approved change
 * opens only for the artifact its approval covers: its head SHA and its plan digest.
 */
export async function checkGate(deps: Deps, key: string, request: GateRequest = {}): Promise<{ change: Change; gate: GateAnswer } | null> {
  const change = await findChangeByKey(deps, key);
  if (!change) return null;
  const gate = gateOf(change, request);
  return { change, gate };
}
