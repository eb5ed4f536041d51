import { describe, it, expect } from 'vitest';
import { authorLabel, authorship, isBotLogin, resolveAuthor as resolveChecked } from '../../src/domain/authors.ts';
import type { AuthorRef } from '../../src/domain/types.ts';
import { buildConfig } from '../factories/config.ts';

const { engineers } = buildConfig();

/** The resolved author, for refs whose fields agree. */
function resolveAuthor(ref: AuthorRef, list = engineers, bots: string[] = []) {
  const r = resolveChecked(ref, list, bots);
  if (!r.ok) throw new Error(r.message);
  return r.author;
}

describe('resolveAuthor', () => {
  it('when the Slack id is known, then the engineer is found and the missing fields are filled in from the config', () => {
    expect(resolveAuthor({ slack_id: 'U0JUNIOR' }, engineers)).toEqual({
      slack_id: 'U0JUNIOR',
      github: 'jdoe',
      email: 'jdoe@example.com',
      name: 'Jordan Doe',
      level: 'junior',
      bot: false,
    });
  });

  it('when the GitHub login is known in another case, then the engineer is found', () => {
    const a = resolveAuthor({ github: 'MIA-K' }, engineers);
    expect(a.level).toBe('mid');
    expect(a.slack_id).toBe('U0MIA');
    expect(a.email).toBe('mia@example.com');
  });

  it('when only the email is known (in another case), then the engineer is found by email', () => {
    const a = resolveAuthor({ email: 'Alice@Example.com' }, engineers);
    expect(a.level).toBe('senior');
    expect(a.slack_id).toBe('U0ALICE');
    expect(a.github).toBe('alice');
    expect(a.name).toBe('Alice');
  });

  it('when the ref already carries fields, then they are kept rather than replaced by the config', () => {
    const a = resolveAuthor({ github: 'jdoe', name: 'J. Doe' }, engineers);
    expect(a.name).toBe('J. Doe');
    expect(a.github).toBe('jdoe');
    expect(a.level).toBe('junior');
  });

  it('when a Slack id nobody has comes with a known GitHub login, then it is refused: the slack_id contradicts that engineer', () => {
    const r = resolveChecked({ slack_id: 'U0NOBODY', github: 'alice' }, engineers);
    expect(r).toEqual({ ok: false, message: 'slack_id U0NOBODY contradicts github alice, who is Alice (U0ALICE)' });
    expect(resolveChecked({ slack_id: 'U0NOBODY', email: 'ALICE@example.com' }, engineers)).toMatchObject({ ok: false, message: expect.stringContaining('contradicts email ALICE@example.com') });
  });

  it('when Slack id and GitHub login point at different engineers, then it is refused naming both', () => {
    const r = resolveChecked({ slack_id: 'U0CAROL', github: 'jdoe' }, engineers);
    expect(r).toEqual({ ok: false, message: 'names different engineers (slack_id U0CAROL is carol; github jdoe is Jordan Doe); give the identities of one person' });
    expect(resolveChecked({ github: 'alice', email: 'jdoe@example.com' }, engineers).ok).toBe(false);
  });

  it('when the fields agree (or one names nobody while the engineer has no such id), then it resolves', () => {
    expect(resolveAuthor({ slack_id: 'U0ALICE', github: 'ALICE', email: 'alice@example.com' }).level).toBe('senior');
    const noSlack = [{ github: 'gh-only', level: 'junior' as const }];
    expect(resolveAuthor({ slack_id: 'U0NEW', github: 'gh-only' }, noSlack)).toMatchObject({ slack_id: 'U0NEW', level: 'junior' });
  });

  it('when nobody matches, then the level is unknown, the ref is kept and it is not a bot', () => {
    expect(resolveAuthor({ github: 'newhire', email: 'new@example.com' }, engineers)).toEqual({
      github: 'newhire',
      email: 'new@example.com',
      level: 'unknown',
      bot: false,
    });
  });

  it('when the ref is empty, then the level is unknown', () => {
    expect(resolveAuthor({}, engineers)).toEqual({ level: 'unknown', bot: false });
  });

  it('when there are no engineers configured, then everybody is unknown', () => {
    expect(resolveAuthor({ slack_id: 'U0JUNIOR', github: 'jdoe' }, []).level).toBe('unknown');
  });

  it('when the GitHub login ends in [bot], then the author is a bot of unknown level', () => {
    expect(resolveAuthor({ github: 'dependabot[bot]' }, engineers)).toMatchObject({ level: 'unknown', bot: true });
  });

  it('when the login is listed as a bot account, then the author is a bot even if also a known engineer', () => {
    expect(resolveAuthor({ github: 'jdoe' }, engineers, ['JDoe'])).toMatchObject({ level: 'junior', bot: true });
    expect(resolveAuthor({ github: 'jdoe' }, engineers).bot).toBe(false);
  });
});

describe('isBotLogin', () => {
  it('when the login ends in [bot] in any case, then it is a bot; a missing login is not', () => {
    expect(isBotLogin('renovate[bot]')).toBe(true);
    expect(isBotLogin('Renovate[BOT]')).toBe(true);
    expect(isBotLogin('robot')).toBe(false);
    expect(isBotLogin(undefined)).toBe(false);
    expect(isBotLogin('')).toBe(false);
  });

  it('when the login is in the bot accounts list in another case, then it is a bot', () => {
    expect(isBotLogin('CI-User', ['ci-user'])).toBe(true);
    expect(isBotLogin('ci-user2', ['ci-user'])).toBe(false);
  });
});

describe('authorLabel', () => {
  it('when a name is known, then the name is used', () => {
    expect(authorLabel({ name: 'Jordan Doe', github: 'jdoe', email: 'j@example.com', slack_id: 'U0J' })).toBe('Jordan Doe');
  });

  it('when there is no name, then @github is used, then the email, then the Slack id', () => {
    expect(authorLabel({ github: 'jdoe', email: 'j@example.com', slack_id: 'U0J' })).toBe('@jdoe');
    expect(authorLabel({ email: 'j@example.com', slack_id: 'U0J' })).toBe('j@example.com');
    expect(authorLabel({ slack_id: 'U0J' })).toBe('U0J');
  });

  it('when nothing is known, then it says "unknown author"', () => {
    expect(authorLabel({})).toBe('unknown author');
  });

  it('when an engineer is resolved from the config, then the label uses the configured name', () => {
    expect(authorLabel(resolveAuthor({ slack_id: 'U0JUNIOR' }, engineers))).toBe('Jordan Doe');
  });
});

describe('authorship (is the reviewer the author?)', () => {
  it('when the reviewer is the Slack id, or the engineer the GitHub login or email names, then they are the author', () => {
    expect(authorship('U0ALICE', { slack_id: 'U0ALICE' }, engineers)).toBe('author');
    expect(authorship('U0ALICE', { github: 'Alice' }, engineers)).toBe('author');
    expect(authorship('U0ALICE', { email: 'alice@EXAMPLE.com' }, engineers, null)).toBe('author');
  });

  it("when the reviewer's own engineer entry shares the author's GitHub login or email, then they are the author", () => {
    const list = [{ slack: 'U0ALICE', github: 'alice', email: 'alice@example.com', level: 'senior' as const }, { slack: 'U0ALT', github: 'alice', level: 'junior' as const }];
    expect(authorship('U0ALICE', { slack_id: 'U0ALT', github: 'alice' }, list)).toBe('author');
  });

  it("when the author has an email, then the reviewer's Slack profile email decides; an unknown profile cannot tell (fail closed upstream)", () => {
    const author = { github: 'outsider', email: 'Out@Side.io' };
    expect(authorship('U0BOB', author, engineers, 'out@side.io')).toBe('author');
    expect(authorship('U0BOB', author, engineers, 'bob@example.com')).toBe('other');
    expect(authorship('U0BOB', author, engineers, null)).toBe('other');
    expect(authorship('U0BOB', author, engineers, undefined)).toBe('unknown');
  });

  it('when the author has no email and no identity matches, then the reviewer is someone else without any lookup', () => {
    expect(authorship('U0BOB', { github: 'jdoe' }, engineers)).toBe('other');
  });
});
