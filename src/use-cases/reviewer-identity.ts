import { authorship, type Authorship } from '../domain/authors.ts';
import type { AuthorRef } from '../domain/types.ts';
import type { Deps } from './ports.ts';

/**
 * Whether `reviewer` is the author by any identity (domain `authorship`). The reviewer's Slack
 * profile email is looked up only when it decides: the author has an email and nothing else matched.
 * A failed lookup answers `unknown`, which sign-off and claim refuse (fail closed).
 */
export async function reviewerAuthorship(deps: Deps, reviewer: string, author: AuthorRef): Promise<Authorship> {
  const quick = authorship(reviewer, author, deps.config.engineers, undefined);
  if (quick !== 'unknown') return quick;
  return authorship(reviewer, author, deps.config.engineers, await deps.reviewers.emailOf(reviewer));
}
