import { historyOf, type HistoryEntry } from '../db/repositories/audit.ts';
import { findChange } from '../db/repositories/changes.ts';
import { parseChangeKey, type Change } from '../domain/change.ts';
import type { Deps } from './ports.ts';

/** One change with its audit history, or null for an unknown key. */
export async function getChange(deps: Deps, key: string): Promise<{ change: Change; history: HistoryEntry[] } | null> {
  const change = await findChangeByKey(deps, key);
  if (!change) return null;
  return { change, history: await historyOf(deps.database.db, change.id) };
}

/** The change behind `CHG-12`, or null when the key is malformed or unknown. */
export async function findChangeByKey(deps: Deps, key: string): Promise<Change | null> {
  const id = parseChangeKey(key);
  return id === null ? null : findChange(deps.database.db, id);
}
