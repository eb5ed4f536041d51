import { describe, it, expect } from 'vitest';
import { authorLabel, isBotLogin, resolveAuthor } from '../../src/domain/authors.ts';
import { buildConfig } from '../factories/config.ts';

const { engineers } = buildConfig();

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

  it('when the Slack id is unknown but the GitHub login is known, then the GitHub match is used', () => {
    expect(resolveAuthor({ slack_id: 'U0NOBODY', github: 'carol' }, engineers).level).toBe('principal');
  });

  it('when Slack id and GitHub login point at different engineers, then the Slack id wins', () => {
    expect(resolveAuthor({ slack_id: 'U0CAROL', github: 'jdoe' }, engineers).level).toBe('principal');
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
