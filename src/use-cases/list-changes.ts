import { listChanges as list } from '../db/repositories/changes.ts';
import type { Change } from '../domain/change.ts';
import type { ChangeStatus } from '../domain/types.ts';
import type { Deps } from './ports.ts';

/** Changes newest first (or oldest first), optionally only one status. */
export function listChanges(deps: Deps, opts: { status?: ChangeStatus; limit: number; oldestFirst?: boolean }): Promise<Change[]> {
  return list(deps.database.db, opts);
}
