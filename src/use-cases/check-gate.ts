import type { Change } from '../domain/change.ts';
import { gateFor, type GateAnswer } from '../domain/status.ts';
import { findChangeByKey } from './get-change.ts';
import type { Deps } from './ports.ts';

/** The deploy gate for a change, or null for an unknown key. */
export async function checkGate(deps: Deps, key: string): Promise<{ change: Change; gate: GateAnswer } | null> {
  const change = await findChangeByKey(deps, key);
  return change ? { change, gate: gateFor(change.status) } : null;
}
