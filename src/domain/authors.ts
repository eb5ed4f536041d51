import type { AuthorRef, ResolvedAuthor } from './types.ts';

export interface Engineer {
  slack?: string;
  github?: string;
  email?: string;
  name?: string;
  level: 'junior' | 'mid' | 'senior' | 'principal';
}

/** True for GitHub-style bot logins (`dependabot[bot]`) and for logins the config lists as bots. */
export function isBotLogin(login: string | undefined, botAccounts: readonly string[] = []): boolean {
  if (!login) return false;
  const l = login.toLowerCase();
  return l.endsWith('[bot]') || botAccounts.some((b) => b.toLowerCase() === l);
}

/**
 * Resolves an author through `engineers` by Slack id, GitHub login or email (in that order).
 * An author nobody knows has level `unknown`, which is never treated as senior.
 */
export function resolveAuthor(ref: AuthorRef, engineers: readonly Engineer[], botAccounts: readonly string[] = []): ResolvedAuthor {
  const lower = (s?: string) => s?.toLowerCase();
  const match =
    (ref.slack_id && engineers.find((e) => e.slack === ref.slack_id)) ||
    (ref.github && engineers.find((e) => lower(e.github) === lower(ref.github))) ||
    (ref.email && engineers.find((e) => lower(e.email) === lower(ref.email))) ||
    undefined;
  const bot = isBotLogin(ref.github, botAccounts);
  if (!match) return { ...ref, level: 'unknown', bot };
  return {
    slack_id: ref.slack_id ?? match.slack,
    github: ref.github ?? match.github,
    email: ref.email ?? match.email,
    name: ref.name ?? match.name,
    level: match.level,
    bot,
  };
}

/** A short label for people: name, then @github, then email, then the Slack id. */
export function authorLabel(a: AuthorRef): string {
  return a.name ?? (a.github ? `@${a.github}` : undefined) ?? a.email ?? a.slack_id ?? 'unknown author';
}
