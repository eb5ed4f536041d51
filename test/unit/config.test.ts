import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.ts';
import { parseApiTokens, parseEnv } from '../../src/config/env.ts';
import { formatPath } from '../../src/config/issues.ts';
import { DEFAULT_AI_DETECTION, DEFAULT_APPROVALS, DEFAULT_POLICY_RULES } from '../../src/config/defaults.ts';
import { formatAge, parseDuration } from '../../src/domain/duration.ts';
import { canonicalJson, planDigest } from '../../src/domain/canonical.ts';
import { buildConfig, TEST_CONFIG_RAW } from '../factories/config.ts';
import { loadPlan } from '../factories/change.ts';

const SHIPPED_CONFIG = fileURLToPath(new URL('../../countersign.yml', import.meta.url));

/** A deep copy of the test config for a test to break. */
const raw = (): any => structuredClone(TEST_CONFIG_RAW);

/** The ConfigError thrown for a raw config (fails the test if none is thrown). */
function configError(input: unknown): ConfigError {
  try {
    parseConfig(input, 'test config');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected parseConfig to throw a ConfigError');
}

function withTempYaml<T>(text: string, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-config-test-'));
  try {
    const path = join(dir, 'countersign.yml');
    writeFileSync(path, text);
    return fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the shipped countersign.yml', () => {
  const cfg = loadConfigFile(SHIPPED_CONFIG);

  it('when loaded, then it is valid and has the demo teams, services and engineers', () => {
    expect(cfg.teams.map((t) => t.name)).toEqual(['payments', 'platform', 'search']);
    expect(cfg.services.map((s) => s.name)).toEqual(['checkout', 'payments-api', 'checkout-db', 'infra', 'search-api']);
    expect(cfg.engineers).toHaveLength(7);
  });

  it('when loaded, then its five policy rules and approvals are as written', () => {
    expect(cfg.policy.rules.map((r) => [r.name, r.level])).toEqual([
      ['ai-change-by-non-senior', 'high'],
      ['destroys-infrastructure', 'critical'],
      ['ai-change-with-wide-blast-radius', 'high'],
      ['ai-change-to-sensitive-paths', 'high'],
      ['large-production-change', 'medium'],
    ]);
    expect(cfg.policy.approvals).toEqual({ low: 0, medium: 1, high: 1, critical: 2 });
  });

  it('when a section is commented out (ai_detection), then its defaults apply', () => {
    expect(cfg.ai_detection).toEqual(DEFAULT_AI_DETECTION);
  });

  it('when loaded, then the escalation timings are kept as written and a team without seniors_usergroup has none', () => {
    expect(cfg.escalation).toEqual({ schedule: '*/5 * * * *', digest: '0 9 * * 1-5', timezone: 'UTC', remind_after: '30m', escalate_after: '2h', expire_after: '72h', claim_timeout: '1h' });
    expect(cfg.incidents.lookback).toBe('24h');
    expect(cfg.teams[0].seniors_usergroup).toBeUndefined();
  });
});

describe('loadConfigFile', () => {
  it('when the file does not exist, then a ConfigError names the path and hints at COUNTERSIGN_CONFIG', () => {
    const missing = join(tmpdir(), 'no-such-dir-countersign', 'countersign.yml');
    expect(() => loadConfigFile(missing)).toThrow(ConfigError);
    expect(() => loadConfigFile(missing)).toThrow(/cannot read config file .*countersign\.yml.*COUNTERSIGN_CONFIG/);
  });

  it('when the YAML is malformed, then a ConfigError says it is not valid YAML', () => {
    withTempYaml('slack: [unclosed\n', (path) => {
      expect(() => loadConfigFile(path)).toThrow(ConfigError);
      expect(() => loadConfigFile(path)).toThrow(/is not valid YAML/);
    });
  });

  it('when a key is duplicated in the YAML, then it is refused rather than silently overwritten', () => {
    withTempYaml('slack:\n  approvals_channel: C0A\n  approvals_channel: C0B\n', (path) => {
      expect(() => loadConfigFile(path)).toThrow(/not valid YAML/);
    });
  });

  it('when the YAML is valid but the config is not, then the error names the file', () => {
    withTempYaml('slack: {}\n', (path) => {
      expect(() => loadConfigFile(path)).toThrow(`${path} is invalid`);
    });
  });
});

describe('parseConfig strictness', () => {
  it('when the test config is parsed, then it is accepted', () => {
    expect(() => parseConfig(raw())).not.toThrow();
  });

  it('when there is an unknown key at the top level, then the ConfigError names the key', () => {
    const err = configError({ ...raw(), polcy: { rules: [] } });
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain('test config is invalid');
    expect(err.message).toMatch(/^\s+polcy: unknown key/m);
  });

  it('when there is an unknown key in a team, then the message names the key path teams[0].chanel', () => {
    const input = raw();
    input.teams[0].chanel = 'C0TYPO';
    expect(configError(input).message).toMatch(/^\s+teams\[0\]\.chanel: unknown key/m);
  });

  it('when an object has two unknown keys, then each is named with its own full path', () => {
    const input = raw();
    input.slack.approval_channel = 'C0X';
    input.slack.colour = 'red';
    const msg = configError(input).message;
    expect(msg).toMatch(/^\s+slack\.approval_channel: unknown key/m);
    expect(msg).toMatch(/^\s+slack\.colour: unknown key/m);
  });

  it('when there is an unknown key inside a policy rule condition, then the message names the path policy.rules[0].when.enviroment', () => {
    const input = raw();
    input.policy = { rules: [{ name: 'r', description: 'd', when: { enviroment: ['production'] }, level: 'high' }] };
    expect(configError(input).message).toMatch(/^\s+policy\.rules\[0\]\.when\.enviroment: unknown key/m);
  });

  it('when there is an unknown key under escalation, then the message names escalation.remind_afer', () => {
    const input = raw();
    input.escalation = { remind_afer: '10m' };
    expect(configError(input).message).toMatch(/^\s+escalation\.remind_afer: unknown key/m);
  });

  it('when teams[1].seniors is a string, then the message says it expected an array of Slack user ids', () => {
    const input = raw();
    input.teams[1].seniors = 'U0CAROL';
    expect(configError(input).message).toContain('teams[1].seniors: expected an array of Slack user ids');
  });

  it('when a senior is not a Slack user id, then the message names the exact entry', () => {
    const input = raw();
    input.teams[0].seniors = ['U0ALICE', 'bob'];
    expect(configError(input).message).toContain('teams[0].seniors[1]: expected a Slack user id like U0123ABC');
  });

  it('when a channel is not a Slack channel id, then the message names the channel key', () => {
    const input = raw();
    input.slack.incidents_channel = '#incidents';
    expect(configError(input).message).toContain('slack.incidents_channel: expected a Slack channel id like C0123ABC');
  });

  it('when a required section is missing, then the message names it', () => {
    const { slack: _, ...input } = raw();
    expect(configError(input).message).toMatch(/^\s+slack: /m);
  });

  it('when a service names an unknown team, then the message names services[0].team and the team', () => {
    const input = raw();
    input.services[0].team = 'payment';
    expect(configError(input).message).toContain('services[0].team: unknown team "payment"');
  });

  it('when a service depends on an unknown service, then the message names the depends_on entry', () => {
    const input = raw();
    input.services[1].depends_on = ['checkout-db', 'ledger'];
    expect(configError(input).message).toContain('services[1].depends_on[1]: unknown service "ledger"');
  });

  it('when a policy rule names an unknown service, then the message names that entry', () => {
    const input = raw();
    input.policy = { rules: [{ name: 'r', description: 'd', when: { services: ['checkout', 'nope'] }, level: 'high' }] };
    expect(configError(input).message).toContain('policy.rules[0].when.services[1]: unknown service "nope"');
  });

  it('when team or service names are duplicated, then each duplicate is named', () => {
    const input = raw();
    input.teams.push({ name: 'search', seniors: [] });
    input.services.push({ name: 'infra', team: 'platform' });
    const msg = configError(input).message;
    expect(msg).toContain('teams[3].name: duplicate team "search"');
    expect(msg).toContain('services[5].name: duplicate service "infra"');
  });

  it('when a rule has no conditions, then it is refused', () => {
    const input = raw();
    input.policy = { rules: [{ name: 'r', description: 'd', when: {}, level: 'high' }] };
    expect(configError(input).message).toContain('a rule needs at least one condition');
  });

  it('when escalation.remind_after is "30 minutes", then the message names it and shows the expected form', () => {
    const input = raw();
    input.escalation = { remind_after: '30 minutes' };
    expect(configError(input).message).toContain('escalation.remind_after: expected a duration like 30s, 30m, 2h or 3d');
  });

  for (const key of ['escalate_after', 'expire_after'] as const) {
    it(`when escalation.${key} is not a duration, then only that problem is reported, not a made-up ordering problem`, () => {
      const input = raw();
      input.escalation = { [key]: 'soon' };
      const msg = configError(input).message;
      expect(msg).toContain(`escalation.${key}: expected a duration like 30s, 30m, 2h or 3d`);
      expect(msg).not.toContain('expected remind_after < escalate_after < expire_after');
    });
  }

  it('when escalation.schedule is not a cron expression, then the message names it', () => {
    const input = raw();
    input.escalation = { schedule: 'every 5 minutes' };
    expect(configError(input).message).toContain('escalation.schedule: expected a cron expression');
  });

  it('when escalation.digest is an out-of-range cron expression, then the message names it', () => {
    const input = raw();
    input.escalation = { digest: '0 25 * * *' };
    expect(configError(input).message).toContain('escalation.digest: expected a cron expression');
  });

  it('when escalation.timezone is not an IANA zone, then the message names it', () => {
    const input = raw();
    input.escalation = { timezone: 'Mars/Olympus_Mons' };
    expect(configError(input).message).toContain('escalation.timezone: expected an IANA time zone');
  });

  it('when escalation.timezone is a real IANA zone, then it is accepted', () => {
    expect(buildConfig({ escalation: { timezone: 'Europe/Berlin' } }).escalation.timezone).toBe('Europe/Berlin');
  });

  for (const [label, esc] of [
    ['remind_after is not before escalate_after', { remind_after: '3h', escalate_after: '2h', expire_after: '72h' }],
    ['escalate_after equals expire_after', { remind_after: '30m', escalate_after: '3d', expire_after: '72h' }],
    ['expire_after is before escalate_after', { remind_after: '30m', escalate_after: '2h', expire_after: '1h' }],
  ] as const) {
    it(`when ${label}, then the escalation ordering is refused`, () => {
      expect(configError({ ...raw(), escalation: esc }).message).toContain('escalation: expected remind_after < escalate_after < expire_after');
    });
  }

  it('when the escalation timings are strictly increasing, then they are accepted', () => {
    const cfg = buildConfig({ escalation: { remind_after: '10m', escalate_after: '1h', expire_after: '2d' } });
    expect(cfg.escalation).toMatchObject({ remind_after: '10m', escalate_after: '1h', expire_after: '2d', schedule: '*/5 * * * *', timezone: 'UTC' });
  });

  it('when several things are wrong, then every problem is listed on its own line', () => {
    const input = raw();
    input.teams[1].seniors = 'U0CAROL';
    input.slack.approvals_channel = 'approvals';
    const lines = configError(input).message.split('\n');
    expect(lines[0]).toBe('test config is invalid:');
    expect(lines.some((l) => l.includes('teams[1].seniors'))).toBe(true);
    expect(lines.some((l) => l.includes('slack.approvals_channel'))).toBe(true);
  });

  it('when the input is null, then it is treated as an empty config and the missing sections are named', () => {
    const msg = configError(null).message;
    expect(msg).toContain('slack');
    expect(msg).toContain('teams');
    expect(msg).toContain('services');
  });
});

describe('parseConfig defaults', () => {
  it('when policy is absent, then the default four rules and approvals apply', () => {
    const cfg = buildConfig();
    expect(cfg.policy.rules).toHaveLength(4);
    expect(cfg.policy.rules.map((r) => r.name)).toEqual(DEFAULT_POLICY_RULES.map((r) => r.name));
    expect(cfg.policy.approvals).toEqual({ low: 0, medium: 1, high: 1, critical: 2 });
    expect(cfg.policy.approvals).toEqual(DEFAULT_APPROVALS);
  });

  it('when policy gives rules but no approvals, then the default approvals apply', () => {
    const cfg = buildConfig({ policy: { rules: [{ name: 'prod', description: 'production', when: { environment: ['production'] }, level: 'medium' }] } });
    expect(cfg.policy.rules.map((r) => r.name)).toEqual(['prod']);
    expect(cfg.policy.approvals).toEqual({ low: 0, medium: 1, high: 1, critical: 2 });
  });

  it('when escalation, incidents and ai_detection are absent, then their defaults apply', () => {
    const cfg = buildConfig();
    expect(cfg.escalation).toEqual({ schedule: '*/5 * * * *', digest: '0 9 * * 1-5', timezone: 'UTC', remind_after: '30m', escalate_after: '2h', expire_after: '72h', claim_timeout: '1h' });
    expect(cfg.incidents).toEqual({ lookback: '24h', grace: '15m', service_label: 'service', severity_map: { critical: 'sev1', error: 'sev2', warning: 'sev3' }, max_suspects: 5 });
    expect(cfg.ai_detection.labels).toEqual(['ai-assisted']);
    expect(cfg.ai_detection.assistants).toContain('Claude');
    expect(cfg.ai_detection.bot_accounts).toEqual([]);
  });

  it('when a service has no depends_on, then it defaults to an empty list', () => {
    expect(buildConfig().services.find((s) => s.name === 'infra')!.depends_on).toEqual([]);
  });
});

describe('the resolved config', () => {
  it('when the config is parsed, then the lookups every request uses are resolved once: service names in config order, teams and owning teams by name', () => {
    const { resolved } = buildConfig();
    expect([...resolved.serviceNames]).toEqual(['checkout', 'payments-api', 'checkout-db', 'infra', 'search-api']);
    expect(resolved.serviceNames.has('checkout-db')).toBe(true);
    expect(resolved.serviceNames.has('payments')).toBe(false);
    expect(resolved.team('platform')).toMatchObject({ name: 'platform', channel: 'C0PLATSEN', seniors: ['U0CAROL', 'U0DAVE'] });
    expect(resolved.team('nobody')).toBeUndefined();
    expect(resolved.teamOf('checkout-db')).toBe('platform');
    expect(resolved.cardChannel('search')).toBe('C0APPROVALS');
  });
});

describe('formatPath', () => {
  it('when a path mixes keys and indexes, then it reads like teams[1].seniors', () => {
    expect(formatPath(['teams', 1, 'seniors'])).toBe('teams[1].seniors');
    expect(formatPath(['services', 0, 'depends_on', 2])).toBe('services[0].depends_on[2]');
    expect(formatPath([])).toBe('');
  });
});

describe('parseEnv', () => {
  it('when PORT is unset, then it defaults to 3000 as a number', () => {
    expect(parseEnv({}).PORT).toBe(3000);
  });

  it('when PORT is a number, then it is parsed', () => {
    expect(parseEnv({ PORT: '8080' }).PORT).toBe(8080);
  });

  it('when PORT is not a number, then a ConfigError names PORT', () => {
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(/PORT: expected a port number/);
  });

  it('when variables are set to the empty string, then they count as unset', () => {
    const env = parseEnv({ PORT: '', HOST: '', DATABASE_URL: '', LOG_LEVEL: '', COUNTERSIGN_MAX_BODY_BYTES: '', SLACK_BOT_TOKEN: '' });
    expect(env.PORT).toBe(3000);
    expect(env.HOST).toBeUndefined();
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.SLACK_BOT_TOKEN).toBeUndefined();
    expect(env.LOG_LEVEL).toBe('info');
    expect(env.COUNTERSIGN_MAX_BODY_BYTES).toBe(5 * 1024 * 1024);
  });

  it('when LOG_LEVEL is not a pino level, then a ConfigError names LOG_LEVEL', () => {
    expect(() => parseEnv({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL/);
  });

  it('when set variables are given, then they are passed through', () => {
    const env = parseEnv({ HOST: '127.0.0.1', DATABASE_URL: 'memory://', LOG_LEVEL: 'debug' });
    expect(env).toMatchObject({ HOST: '127.0.0.1', DATABASE_URL: 'memory://', LOG_LEVEL: 'debug' });
  });
});

describe('parseApiTokens', () => {
  it('when given two name:token pairs, then both are returned', () => {
    expect(parseApiTokens('a:tok12345,b:tok67890')).toEqual([
      { name: 'a', token: 'tok12345', scopes: ['submit', 'read', 'deploy'] },
      { name: 'b', token: 'tok67890', scopes: ['submit', 'read', 'deploy'] },
    ]);
  });

  it('when pairs have spaces and a trailing comma, then they are trimmed and the empty entry ignored', () => {
    expect(parseApiTokens(' ci : tok12345 , deploy:tok67890 ,')).toEqual([
      { name: 'ci', token: 'tok12345', scopes: ['submit', 'read', 'deploy'] },
      { name: 'deploy', token: 'tok67890', scopes: ['submit', 'read', 'deploy'] },
    ]);
  });

  it('when the value is unset or empty, then there are no tokens', () => {
    expect(parseApiTokens(undefined)).toEqual([]);
    expect(parseApiTokens('')).toEqual([]);
  });

  it('when an entry has scopes, then they are parsed; without scopes a token may not break the glass', () => {
    expect(parseApiTokens('oncall:tok12345:breakglass+read,ops:tok67890:ADMIN')).toEqual([
      { name: 'oncall', token: 'tok12345', scopes: ['breakglass', 'read'] },
      { name: 'ops', token: 'tok67890', scopes: ['admin'] },
    ]);
    expect(parseApiTokens('ci:tok12345')[0].scopes).not.toContain('breakglass');
  });

  it('when a scope is unknown, or a name repeats, then the error names the entry and the scopes, never the token', () => {
    expect(() => parseApiTokens('ci:tok12345:submit+root')).toThrow('COUNTERSIGN_API_TOKENS: entry 1 (ci): unknown scope "root"; scopes are submit, read, deploy, breakglass, admin');
    expect(() => parseApiTokens('ci:tok12345,ci:tok67890')).toThrow(/entry 2 \(ci\): the name ci is used twice/);
    expect(() => parseApiTokens('ci:abc:def:ghijkl')).toThrow(/entry 1 \(ci\) must be name:token or name:token:scope\+scope/);
    expect(() => parseApiTokens('ci:tok12345:submit+root')).not.toThrow(/tok12345/);
  });

  it('when an entry has no colon, then the error names entry 1 and does not contain the entry text', () => {
    let err: unknown;
    try {
      parseApiTokens('nocolonsecretvalue');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain('COUNTERSIGN_API_TOKENS');
    expect(message).toContain('entry 1');
    expect(message).not.toContain('nocolonsecretvalue');
  });

  it('when the second token is too short, then the error names entry 2 and does not leak the token', () => {
    let message = '';
    try {
      parseApiTokens('a:tok12345,b:shrt7');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('entry 2');
    expect(message).not.toContain('shrt7');
    expect(message).not.toContain('tok12345');
  });

  it('when an entry has an empty name, then it is refused', () => {
    expect(() => parseApiTokens(':tok12345')).toThrow(/entry 1/);
  });
});

describe('parseDuration', () => {
  it('when given <number><unit>, then it returns milliseconds', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('3d')).toBe(259_200_000);
    expect(parseDuration('0s')).toBe(0);
  });

  it('when surrounded by whitespace, then it is still parsed', () => {
    expect(parseDuration(' 5m ')).toBe(300_000);
  });

  it('when not of the form <number><s|m|h|d>, then it returns null', () => {
    for (const bad of ['30 minutes', '30', 'm', '1.5h', '-5m', '5w', '5M', '', '5m 3s']) expect(parseDuration(bad), bad).toBeNull();
  });
});

describe('formatAge', () => {
  it('when under a minute, then seconds are shown (rounded down)', () => {
    expect(formatAge(0)).toBe('0s');
    expect(formatAge(45_000)).toBe('45s');
    expect(formatAge(59_999)).toBe('59s');
  });

  it('when under an hour, then minutes are shown', () => {
    expect(formatAge(60_000)).toBe('1m');
    expect(formatAge(12 * 60_000 + 30_000)).toBe('12m');
  });

  it('when under a day, then hours and remaining minutes are shown, minutes omitted when zero', () => {
    expect(formatAge(3 * 3_600_000 + 5 * 60_000)).toBe('3h 5m');
    expect(formatAge(3 * 3_600_000)).toBe('3h');
  });

  it('when a day or more, then days and remaining hours are shown, hours omitted when zero', () => {
    expect(formatAge(2 * 86_400_000 + 4 * 3_600_000)).toBe('2d 4h');
    expect(formatAge(2 * 86_400_000)).toBe('2d');
  });

  it('when the age is negative, then it shows 0s', () => {
    expect(formatAge(-5_000)).toBe('0s');
  });

  it('when formatting a parsed duration, then it round-trips', () => {
    expect(formatAge(parseDuration('72h')!)).toBe('3d');
    expect(formatAge(parseDuration('30m')!)).toBe('30m');
  });
});

describe('canonicalJson and planDigest', () => {
  it('when two objects differ only in key order (at any depth), then their canonical JSON is the same', () => {
    const a = { b: 1, a: { y: [1, { q: 2, p: 3 }], x: 'z' } };
    const b = { a: { x: 'z', y: [1, { p: 3, q: 2 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":"z","y":[1,{"p":3,"q":2}]},"b":1}');
  });

  it('when arrays differ in order, then the canonical JSON differs', () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('when a key is undefined, then it is left out; null is kept', () => {
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });

  it('when given scalars, then they are JSON-encoded', () => {
    expect(canonicalJson('x"y')).toBe('"x\\"y"');
    expect(canonicalJson(3)).toBe('3');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(true)).toBe('true');
  });

  it('when a real plan is hashed twice, then the digest is the same 64-hex SHA-256', () => {
    const d = planDigest(loadPlan('plan-destructive'));
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(planDigest(loadPlan('plan-destructive'))).toBe(d);
  });

  it('when a plan has its keys reordered, then the digest does not change', () => {
    const plan = loadPlan('plan-destructive');
    const reversed = Object.fromEntries(Object.entries(plan).reverse());
    expect(Object.keys(reversed)).not.toEqual(Object.keys(plan));
    expect(planDigest(reversed)).toBe(planDigest(plan));
  });

  it('when a plan changes, then the digest changes', () => {
    const plan = loadPlan('plan-destructive');
    const changed = structuredClone(plan);
    (changed.resource_changes as { change: { actions: string[] } }[])[0].change.actions = ['no-op'];
    expect(planDigest(changed)).not.toBe(planDigest(plan));
    expect(planDigest(loadPlan('plan-destroy-all'))).not.toBe(planDigest(plan));
  });
});
