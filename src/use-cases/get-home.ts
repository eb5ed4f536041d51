import { changesByAuthor, listChanges } from '../db/repositories/changes.ts';
import type { Change } from '../domain/change.ts';
import type { Deps } from './ports.ts';

/**
 * What a person's App Home shows: the pending changes they may sign off (not theirs, not signed
 * yet), oldest first, or null when they are nobody's reviewer; and the changes they authored.
 */
export async function getHome(deps: Deps, user: string): Promise<{ toReview: Change[] | null; mine: Change[] }> {
  const teams: string[] = [];
  for (const t of deps.config.teams) if ((await deps.reviewers.eligibleFor(t.name)).has(user)) teams.push(t.name);
  const mine = await changesByAuthor(deps.database.db, user, 15);
  if (teams.length === 0) return { toReview: null, mine };
  const pending = await listChanges(deps.database.db, { status: 'pending', limit: 500, oldestFirst: true });
  const toReview = pending.filter((c) => teams.includes(c.team) && c.author.slack_id !== user && !c.sign_offs.some((s) => s.round === c.round && s.reviewer === user));
  return { toReview, mine };
}
