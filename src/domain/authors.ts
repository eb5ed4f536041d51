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

const lower = (s?: string | null) => s?.toLowerCase();

/** The engineers each given author field names (by Slack id, GitHub login, email; case-insensitive). */
function matchesOf(ref: AuthorRef, engineers: readonly Engineer[]) {
  return {
    slack: ref.slack_id ? engineers.find((e) => e.slack === ref.slack_id) : undefined,
    github: ref.github ? engineers.find((e) => lower(e.github) === lower(ref.github)) : undefined,
    email: ref.email ? engineers.find((e) => lower(e.email) === lower(ref.email)) : undefined,
  };
}

export type AuthorResolution = { ok: true; author: ResolvedAuthor } | { ok: false; message: string };

const who = (e: Engineer) => e.name ?? e.github ?? e.email ?? e.slack ?? 'an engineer';

/**
 * Resolves an author through `engineers` by Slack id, GitHub login and email, and refuses fields
 * that disagree: two fields naming different engineers, or a `slack_id` that is not the Slack id of
 * the engineer the GitHub login or email names. Otherwise a senior could register her own change
 * under a borrowed Slack id and approve it. An author nobody knows has level `unknown`, which is
 * never treated as senior.
 */
export function resolveAuthor(ref: AuthorRef, engineers: readonly Engineer[], botAccounts: readonly string[] = []): AuthorResolution {
  const m = matchesOf(ref, engineers);
  const found = [...new Set([m.slack, m.github, m.email].filter((e): e is Engineer => Boolean(e)))];
  if (found.length > 1) {
    const named = (['slack', 'github', 'email'] as const)
      .filter((k) => m[k])
      .map((k) => `${k === 'slack' ? 'slack_id' : k} ${k === 'slack' ? ref.slack_id : k === 'github' ? ref.github : ref.email} is ${who(m[k]!)}`);
    return { ok: false, message: `names different engineers (${named.join('; ')}); give the identities of one person` };
  }
  const match = found[0];
  if (match && ref.slack_id && match.slack && match.slack !== ref.slack_id) {
    const by = m.github ? `github ${ref.github}` : `email ${ref.email}`;
    return { ok: false, message: `slack_id ${ref.slack_id} contradicts ${by}, who is ${who(match)} (${match.slack})` };
  }
  return { ok: true, author: resolved(ref, match, isBotLogin(ref.github, botAccounts)) };
}

function resolved(ref: AuthorRef, match: Engineer | undefined, bot: boolean): ResolvedAuthor {
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

/** Whether a reviewer is the author: yes, no, or cannot tell (a lookup failed; callers fail closed). */
export type Authorship = 'author' | 'other' | 'unknown';

/**
 * Compares a reviewer with every identity of an author: the author's Slack id, every engineer the
 * author's Slack id, GitHub login or email names, the reviewer's own engineer entry (same GitHub
 * login or email), and, when the author has an email, the reviewer's Slack profile email.
 * `reviewerEmail` is that profile email: a string, null when the profile has none, or `undefined`
 * when it could not be looked up (the answer is then `unknown`, unless another identity matched).
 */
export function authorship(reviewer: string, author: AuthorRef, engineers: readonly Engineer[], reviewerEmail?: string | null): Authorship {
  if (author.slack_id && author.slack_id === reviewer) return 'author';
  const m = matchesOf(author, engineers);
  if ([m.slack, m.github, m.email].some((e) => e?.slack === reviewer)) return 'author';
  const me = engineers.find((e) => e.slack === reviewer);
  if (me && ((author.github && lower(me.github) === lower(author.github)) || (author.email && lower(me.email) === lower(author.email)))) return 'author';
  if (!author.email) return 'other';
  if (reviewerEmail === undefined) return 'unknown';
  return reviewerEmail && lower(reviewerEmail.trim()) === lower(author.email.trim()) ? 'author' : 'other';
}

/** A short label for people: name, then @github, then email, then the Slack id. */
export function authorLabel(a: AuthorRef): string {
  return a.name ?? (a.github ? `@${a.github}` : undefined) ?? a.email ?? a.slack_id ?? 'unknown author';
}
