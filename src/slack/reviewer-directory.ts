import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { ReviewerDirectory } from '../use-cases/ports.ts';

/**
 * Eligible reviewers: a team's `seniors` ∪ members of its `seniors_usergroup`, fetched with
 * `usergroups.users.list` and cached. A failed fetch fails closed: nobody extra becomes eligible.
 */
export function slackReviewerDirectory(config: Config, client: WebClient, logger: Logger, ttlMs = 5 * 60_000): ReviewerDirectory & { clear(): void } {
  const cache = new Map<string, { users: string[]; until: number }>();
  async function members(group: string): Promise<string[]> {
    const hit = cache.get(group);
    if (hit && hit.until > Date.now()) return hit.users;
    try {
      const res = await client.usergroups.users.list({ usergroup: group });
      const users = (res.users ?? []).filter((u) => /^[UW][A-Z0-9]+$/.test(u));
      cache.set(group, { users, until: Date.now() + ttlMs });
      return users;
    } catch (err) {
      logger.warn({ usergroup: group, error: (err as { data?: { error?: string } }).data?.error ?? (err as Error).message }, 'could not fetch user group members; only configured seniors are eligible');
      return [];
    }
  }
  return {
    async eligibleFor(team: string) {
      const t = config.teams.find((x) => x.name === team);
      if (!t) return new Set();
      const extra = t.seniors_usergroup ? await members(t.seniors_usergroup) : [];
      return new Set([...t.seniors, ...extra]);
    },
    clear: () => cache.clear(),
  };
}
