import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { ReviewerDirectory } from '../use-cases/ports.ts';

/**
 * Eligible reviewers: a team's `seniors` ∪ members of its `seniors_usergroup`, fetched with
 * `usergroups.users.list` and cached. A failed fetch fails closed: nobody extra becomes eligible.
 * Profile emails (`users.info`, scope users:read.email) tell whether a reviewer is an author known by email.
 */
export function slackReviewerDirectory(config: Config, client: WebClient, logger: Logger, ttlMs = 5 * 60_000, waitMs = 1_500): ReviewerDirectory & { clear(): void } {
  const cache = new Map<string, { users: string[]; until: number }>();
  const inFlight = new Map<string, Promise<string[]>>();
  function fetchMembers(group: string): Promise<string[]> {
    const running = inFlight.get(group);
    if (running) return running;
    const p = client.usergroups.users
      .list({ usergroup: group })
      .then((res) => {
        const users = (res.users ?? []).filter((u) => /^[UW][A-Z0-9]+$/.test(u));
        cache.set(group, { users, until: Date.now() + ttlMs });
        return users;
      })
      .catch((err) => {
        logger.warn({ usergroup: group, error: (err as { data?: { error?: string } }).data?.error ?? (err as Error).message }, 'could not fetch user group members; only configured seniors are eligible');
        return [] as string[];
      })
      .finally(() => inFlight.delete(group));
    inFlight.set(group, p);
    return p;
  }
  async function members(group: string): Promise<string[]> {
    const hit = cache.get(group);
    if (hit && hit.until > Date.now()) return hit.users;
    // A slow Slack must not hold up an answer to Slack: wait briefly, else fail closed for now
    // (the fetch goes on and fills the cache for the next request).
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string[]>((r) => (timer = setTimeout(() => r([]), waitMs)));
    const users = await Promise.race([fetchMembers(group), timeout]);
    clearTimeout(timer);
    return users;
  }
  const emails = new Map<string, { email: string | null; until: number }>();
  return {
    async emailOf(user: string) {
      const hit = emails.get(user);
      if (hit && hit.until > Date.now()) return hit.email;
      try {
        const res = await client.users.info({ user });
        const email = res.user?.profile?.email ?? null;
        emails.set(user, { email, until: Date.now() + ttlMs });
        return email;
      } catch (err) {
        // Cannot tell: the caller fails closed (the sign-off is refused, to be tried again).
        logger.warn({ user, error: (err as { data?: { error?: string } }).data?.error ?? (err as Error).message }, 'could not read a reviewer\'s Slack profile email');
        return undefined;
      }
    },
    async eligibleFor(team: string) {
      const t = config.resolved.team(team);
      if (!t) return new Set();
      const extra = t.seniors_usergroup ? await members(t.seniors_usergroup) : [];
      return new Set([...t.seniors, ...extra]);
    },
    clear: () => {
      cache.clear();
      emails.clear();
    },
  };
}
