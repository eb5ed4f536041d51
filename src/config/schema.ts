import cron from 'node-cron';
import { z } from 'zod';
import { parseDuration } from '../domain/duration.ts';
import { checkGlob } from '../domain/glob.ts';
import { isFreezeCron } from '../domain/freezes.ts';
import { resolveConfig } from './resolve.ts';
import { AUTHOR_LEVELS, RISK_LEVELS } from '../domain/types.ts';
import { DEFAULT_AI_DETECTION, DEFAULT_GITHUB_AI_BODY_MARKERS, DEFAULT_POLICY_RULES, DEFAULT_APPROVALS } from './defaults.ts';

/**
 * The one schema for `countersign.yml`. Every object is strict: an unknown key is an error,
 * because a typo must never silently disable a rule.
 */

const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'expected a Slack user id like U0123ABC');
const userIds = z.array(userId, { error: 'expected an array of Slack user ids' });
const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'expected a Slack channel id like C0123ABC');
const usergroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'expected a Slack user group id like S0123ABC');
const name = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'expected a lowercase name (letters, digits, . _ -)');
const duration = z.string().refine((v) => parseDuration(v) !== null, 'expected a duration like 30s, 30m, 2h or 3d');
const cronExpr = z.string().refine((v) => cron.validate(v), 'expected a cron expression like "*/5 * * * *"');
const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'expected an IANA time zone like UTC or Europe/Berlin');

/** Environment names are compared lowercase everywhere: `Production` and `production` are one environment. */
export const environmentName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,49}$/i, 'expected an environment name such as production')
  .transform((s) => s.toLowerCase());

/** A glob for `paths_match` and review areas, refused at load when it could make matching slow (see domain/glob.ts). */
const glob = z.string().min(1).superRefine((g, ctx) => {
  const check = checkGlob(g);
  if (!check.ok) ctx.addIssue({ code: 'custom', message: `glob ${JSON.stringify(g.slice(0, 60))} ${check.message}` });
});

const enforcement = z.enum(['enforce', 'shadow'], { error: 'expected enforce or shadow' });

/** When a freeze holds: between two times, or from each `cron` start for `duration` (in `timezone`). */
const freezeSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,59}$/i, 'expected a short name such as black-friday'),
    reason: z.string().trim().min(1).max(300),
    environments: z.array(environmentName).min(1, 'list at least one environment'),
    services: z.array(name).min(1).optional().describe('default: every service'),
    from: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time such as 2026-11-27T00:00:00Z' }).optional(),
    to: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time such as 2026-12-01T00:00:00Z' }).optional(),
    cron: z.string().refine(isFreezeCron, 'expected a cron expression like "0 18 * * 5" (Fridays at 18:00)').optional().describe('when each freeze starts'),
    duration: duration.optional().describe('how long each freeze started by cron lasts'),
    timezone: timezone.optional().describe('for cron (default: escalation.timezone)'),
  })
  .superRefine((f, ctx) => {
    const window = f.from !== undefined || f.to !== undefined;
    const recurring = f.cron !== undefined || f.duration !== undefined;
    if (window === recurring) ctx.addIssue({ code: 'custom', message: 'give either from and to, or cron and duration' });
    else if (window && (f.from === undefined || f.to === undefined)) ctx.addIssue({ code: 'custom', path: [f.from === undefined ? 'from' : 'to'], message: 'is required with ' + (f.from === undefined ? 'to' : 'from') });
    else if (window && Date.parse(f.from!) >= Date.parse(f.to!)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (recurring && (f.cron === undefined || f.duration === undefined)) ctx.addIssue({ code: 'custom', path: [f.cron === undefined ? 'cron' : 'duration'], message: 'is required with ' + (f.cron === undefined ? 'duration' : 'cron') });
    if (f.timezone && !recurring) ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'only applies to cron freezes' });
  });

const levelList = z.array(z.enum(AUTHOR_LEVELS), { error: `expected a list of levels (${AUTHOR_LEVELS.join(', ')})` });

export const conditionsSchema = z
  .strictObject({
    ai_assisted: z.boolean().optional().describe('AI-assisted or not'),
    author_level: levelList.optional().describe("the author's level is one of these"),
    environment: z.array(environmentName).optional().describe('the environment is one of these (compared lowercase)'),
    services: z.array(name).optional().describe('the change touches one of these services'),
    paths_match: z.array(glob).optional().describe('globs (case-insensitive); true if any changed path matches'),
    infra_destroys_at_least: z.number().int().min(1).optional().describe('the terraform plan deletes or replaces at least n resources'),
    lines_changed_at_least: z.number().int().min(1).optional().describe('additions + deletions is at least n'),
    ai_share_at_least: z.number().min(0).max(1).optional().describe('the declared AI share is at least this (0-1)'),
    blast_radius_at_least: z.number().int().min(1).optional().describe('the touched services plus everything that transitively depends on them count at least n'),
  })
  .refine((w) => Object.keys(w).length > 0, 'a rule needs at least one condition');

export const ruleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a kebab-case rule name'),
  description: z.string().min(1).max(300),
  when: conditionsSchema,
  level: z.enum(RISK_LEVELS),
});

const approvalsSchema = z.strictObject({
  low: z.number().int().min(0).max(10),
  medium: z.number().int().min(0).max(10),
  high: z.number().int().min(0).max(10),
  critical: z.number().int().min(0).max(10),
});

const parsedConfigSchema = z
  .strictObject({
    enforcement: enforcement.default('enforce').describe('enforce: the gate blocks; shadow: everything happens, but the gate never blocks (a dry run)'),
    freezes: z.array(freezeSchema).default([]).describe('deploy freezes: while one is active for an environment (and service), the gate answers 403 frozen'),
    environments: z
      .array(environmentName, { error: 'expected a list of environment names' })
      .min(1, 'list at least one environment, or leave the key out')
      .optional()
      .describe('the known environments; when set, a change or deployment for any other environment is refused (400)'),
    slack: z
      .strictObject({
        approvals_channel: channelId.describe('fallback channel for approval cards'),
        incidents_channel: channelId.describe('outage broadcasts'),
        escalation_channel: channelId.describe('where stale requests escalate'),
      })
      .describe('where Countersign posts'),
    teams: z
      .array(
        z.strictObject({
          name: name,
          channel: channelId.optional().describe("the team's senior channel: its approval cards go here"),
          seniors: userIds.default([]).describe('Slack user ids allowed to sign off this team\'s changes'),
          seniors_usergroup: usergroupId.optional().describe('members of this Slack user group may sign off too'),
          escalation_contacts: userIds.optional().describe('mentioned when a request escalates'),
          escalation_usergroup: usergroupId.optional().describe('mentioned when a request escalates'),
          enforcement: enforcement.optional().describe('overrides the top-level enforcement for this team'),
        }),
      )
      .min(1, 'expected at least one team'),
    services: z
      .array(
        z.strictObject({
          name: name,
          team: name.describe('the owning team'),
          depends_on: z.array(name).default([]).describe('services this one depends on'),
        }),
      )
      .min(1, 'expected at least one service'),
    engineers: z
      .array(
        z.strictObject({
          slack: userId.optional(),
          github: z.string().min(1).max(100).optional(),
          email: z.string().email('expected an email address').optional(),
          name: z.string().min(1).max(100).optional(),
          level: z.enum(['junior', 'mid', 'senior', 'principal'], { error: 'expected junior, mid, senior or principal' }),
        }).refine((e) => e.slack || e.github || e.email, 'an engineer needs at least one of slack, github or email'),
      )
      .default([]),
    ai_detection: z
      .strictObject({
        assistants: z.array(z.string().min(1)).default(() => [...DEFAULT_AI_DETECTION.assistants]).describe('names that mark a Co-authored-by trailer as an AI assistant'),
        labels: z.array(z.string().min(1)).default(() => [...DEFAULT_AI_DETECTION.labels]).describe('PR labels that mark a change as AI-assisted'),
        bot_accounts: z.array(z.string().min(1)).default([]).describe('GitHub logins treated as bots besides those ending in [bot]'),
      })
      .default(() => structuredClone(DEFAULT_AI_DETECTION)),
    policy: z
      .strictObject({
        rules: z.array(ruleSchema).default(() => structuredClone(DEFAULT_POLICY_RULES)),
        approvals: approvalsSchema.default(() => ({ ...DEFAULT_APPROVALS })).describe('sign-offs needed per risk level'),
      })
      .default(() => ({ rules: structuredClone(DEFAULT_POLICY_RULES), approvals: { ...DEFAULT_APPROVALS } })),
    escalation: z
      .strictObject({
        schedule: cronExpr.default('*/5 * * * *').describe('how often the escalation sweep runs'),
        digest: cronExpr.default('0 9 * * 1-5').describe('when the daily digest is posted, in `timezone`'),
        timezone: timezone.default('UTC'),
        remind_after: duration.default('30m'),
        escalate_after: duration.default('2h'),
        expire_after: duration.default('72h'),
        business_hours: z
          .strictObject({
            days: z.string().regex(/^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?(,(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?)*$/, 'expected days like mon-fri or mon,wed,fri').default('mon-fri'),
            from: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time like 09:00'),
            to: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time like 18:00'),
          })
          .optional()
          .describe('reminders and escalations below critical wait for these hours (in `timezone`)'),
        claim_timeout: duration.default('1h').describe('a claim on a review lapses after this'),
      })
      .default(() => ({ schedule: '*/5 * * * *', digest: '0 9 * * 1-5', timezone: 'UTC', remind_after: '30m', escalate_after: '2h', expire_after: '72h', claim_timeout: '1h' })),
    review: z
      .strictObject({
        assignment: z.enum(['least_loaded', 'everyone'], { error: 'expected least_loaded or everyone' }).default('least_loaded').describe('least_loaded: each card names one assigned reviewer; everyone: ask every eligible senior'),
        max_assigned_per_day: z.number().int().min(1).max(1000).default(10).describe('a senior at this many assignments today is skipped, unless everyone is'),
        away: userIds.default([]).describe('seniors who are away and never assigned (besides /change away on)'),
        areas: z
          .array(z.strictObject({ name: z.string().min(1).max(60), paths: z.array(glob).min(1), risk: z.number().int().min(0).max(100).default(10) }))
          .optional()
          .describe('how changed paths are grouped on the card (default: infrastructure, migrations, auth, CI/CD, tests, docs)'),
      })
      .default(() => ({ assignment: 'least_loaded' as const, max_assigned_per_day: 10, away: [] })),
    incidents: z
      .strictObject({
        lookback: duration.default('24h').describe('how far before an incident deployments are suspects'),
        grace: duration.default('15m').describe('deployments this long after an incident started are suspects too'),
        service_label: z.string().min(1).default('service').describe('the Alertmanager label that names the affected service'),
        severity_map: z.record(z.string(), z.enum(['sev1', 'sev2', 'sev3', 'sev4'])).default(() => ({ critical: 'sev1' as const, error: 'sev2' as const, warning: 'sev3' as const })).describe('Alertmanager severity label → incident severity (others become sev3)'),
        max_suspects: z.number().int().min(1).max(20).default(5),
      })
      .default(() => ({ lookback: '24h', grace: '15m', service_label: 'service', severity_map: { critical: 'sev1' as const, error: 'sev2' as const, warning: 'sev3' as const }, max_suspects: 5 })),
    github: z
      .strictObject({
        environment: environmentName.default('production').describe('the environment of changes registered from pull requests'),
        repos: z
          .array(
            z.strictObject({
              repo: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'expected owner/name, e.g. acme/shop').describe('the repository, owner/name'),
              service: name.describe("the service its pull requests change (its team reviews them)"),
            }),
          )
          .default([])
          .describe('repositories whose pull requests are registered; others are ignored'),
        ai_body_markers: z.array(z.string().trim().min(1)).default(() => [...DEFAULT_GITHUB_AI_BODY_MARKERS]).describe('pull request body lines that mark it AI-assisted (case-insensitive, whole line)'),
        environments: z
          .record(z.string().min(1).max(255), environmentName)
          .default(() => ({}))
          .describe('GitHub environment → Countersign environment, for deployment protection rules and deployment statuses (default: the same name, lowercased)'),
        unknown_deployments: z
          .enum(['reject', 'approve'], { error: 'expected reject or approve' })
          .default('reject')
          .describe('a deployment protection rule request for a commit no change covers: reject (default) or approve'),
      })
      .default(() => ({ environment: 'production', repos: [], ai_body_markers: [...DEFAULT_GITHUB_AI_BODY_MARKERS], environments: {}, unknown_deployments: 'reject' as const }))
      .describe('the GitHub webhook (POST /webhooks/github)'),
    break_glass: z
      .strictObject({
        allowed: userIds.default([]).describe('Slack user ids who may open the gate without sign-off'),
        review_within: duration.default('24h').describe('normal sign-offs are due this long after a break-glass; later, it escalates'),
      })
      .default(() => ({ allowed: [], review_within: '24h' }))
      .describe('deploying before sign-off in an emergency'),
  })
  .superRefine((cfg, ctx) => {
    const teamNames = new Set<string>();
    cfg.teams.forEach((t, i) => {
      if (teamNames.has(t.name)) ctx.addIssue({ code: 'custom', path: ['teams', i, 'name'], message: `duplicate team "${t.name}"` });
      teamNames.add(t.name);
    });
    const serviceNames = new Set(cfg.services.map((s) => s.name));
    const seen = new Set<string>();
    cfg.services.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `duplicate service "${s.name}"` });
      seen.add(s.name);
      if (!teamNames.has(s.team)) ctx.addIssue({ code: 'custom', path: ['services', i, 'team'], message: `unknown team "${s.team}"` });
      s.depends_on.forEach((d, j) => {
        if (!serviceNames.has(d)) ctx.addIssue({ code: 'custom', path: ['services', i, 'depends_on', j], message: `unknown service "${d}"` });
      });
    });
    const repos = new Set<string>();
    cfg.github.repos.forEach((r, i) => {
      const key = r.repo.toLowerCase();
      if (repos.has(key)) ctx.addIssue({ code: 'custom', path: ['github', 'repos', i, 'repo'], message: `duplicate repo "${r.repo}"` });
      repos.add(key);
      if (!serviceNames.has(r.service)) ctx.addIssue({ code: 'custom', path: ['github', 'repos', i, 'service'], message: `unknown service "${r.service}"` });
    });
    const ruleNames = new Set<string>();
    cfg.policy.rules.forEach((r, i) => {
      if (ruleNames.has(r.name)) ctx.addIssue({ code: 'custom', path: ['policy', 'rules', i, 'name'], message: `duplicate rule "${r.name}"` });
      ruleNames.add(r.name);
      r.when.services?.forEach((svc, j) => {
        if (!serviceNames.has(svc)) ctx.addIssue({ code: 'custom', path: ['policy', 'rules', i, 'when', 'services', j], message: `unknown service "${svc}"` });
      });
    });
    if (cfg.environments) {
      const known = new Set(cfg.environments);
      const unknown = (value: string, path: (string | number)[]) => {
        if (!known.has(value)) ctx.addIssue({ code: 'custom', path, message: `unknown environment "${value}"; environments lists ${cfg.environments!.join(', ')}` });
      };
      cfg.policy.rules.forEach((r, i) => r.when.environment?.forEach((env, j) => unknown(env, ['policy', 'rules', i, 'when', 'environment', j])));
      unknown(cfg.github.environment, ['github', 'environment']);
    }
    cfg.freezes.forEach((f, i) => {
      f.services?.forEach((svc, j) => {
        if (!serviceNames.has(svc)) ctx.addIssue({ code: 'custom', path: ['freezes', i, 'services', j], message: `unknown service "${svc}"` });
      });
      if (cfg.environments) f.environments.forEach((env, j) => {
        if (!cfg.environments!.includes(env)) ctx.addIssue({ code: 'custom', path: ['freezes', i, 'environments', j], message: `unknown environment "${env}"; environments lists ${cfg.environments!.join(', ')}` });
      });
    });
    const e = cfg.escalation;
    const [remind, escalate, expire] = [e.remind_after, e.escalate_after, e.expire_after].map((d) => parseDuration(d));
    // A malformed duration is already reported on its own key; only compare well-formed ones.
    if (remind !== null && escalate !== null && expire !== null && !(remind < escalate && escalate < expire)) {
      ctx.addIssue({ code: 'custom', path: ['escalation'], message: 'expected remind_after < escalate_after < expire_after' });
    }
  });

/** The config as written, validated (durations stay text, for messages). */
export type ParsedConfig = z.infer<typeof parsedConfigSchema>;

/** The one schema for `countersign.yml`; a valid config also carries what it means, `resolved` once at load. */
export const configSchema = parsedConfigSchema.transform((cfg) => ({ ...cfg, resolved: resolveConfig(cfg) }));

export type Config = z.infer<typeof configSchema>;
export type PolicyRule = z.infer<typeof ruleSchema>;
export type RuleConditions = PolicyRule['when'];
export type Approvals = z.infer<typeof approvalsSchema>;
