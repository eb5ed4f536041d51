import { z } from 'zod';
import { environmentName } from '../config/schema.ts';
import { normaliseRepoPath } from '../domain/paths.ts';

/** Documented limits of `POST /api/changes` (see README, "API"). */
export const LIMITS = {
  title: 300,
  description: 10_000,
  url: 2_000,
  services: 20,
  labels: 100,
  label: 100,
  commits: 1_000,
  commitMessage: 20_000,
  paths: 10_000,
  path: 1_000,
} as const;

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const sha = z.string().regex(/^[0-9a-f]{7,64}$/i, 'expected a hex commit SHA');
/** A head SHA must be whole (40 hex characters, or 64 for SHA-256 repositories): a prefix could name another commit. */
export const fullSha = z
  .string()
  .regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/i, 'expected a full commit SHA (40 or 64 hex characters), not an abbreviation')
  .transform((s) => s.toLowerCase());

/** Changed paths, normalised (see domain/paths.ts) so no spelling of a path dodges a glob; one that climbs above the root is refused. */
const changedPaths = z
  .array(z.string().min(1).max(LIMITS.path, `must be at most ${LIMITS.path} characters`))
  .max(LIMITS.paths, `at most ${LIMITS.paths} paths`)
  .transform((paths, ctx) => {
    const out: string[] = [];
    paths.forEach((p, i) => {
      const n = normaliseRepoPath(p);
      if (n.ok) out.push(n.path);
      else ctx.addIssue({ code: 'custom', path: [i], message: `${JSON.stringify(p.slice(0, 100))} ${n.message}` });
    });
    return out;
  });
const count = z.number().int('expected a whole number').min(0).max(10_000_000);

export const changeInputSchema = z
  .strictObject({
    source: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,49}$/, 'expected a short lowercase source name such as api, ci or github'),
    external_id: text(200),
    title: text(LIMITS.title),
    description: z.string().max(LIMITS.description, `must be at most ${LIMITS.description} characters`).optional(),
    url: z
      .string()
      .max(LIMITS.url)
      .regex(/^https?:\/\/[^\s<>|]+$/, 'expected an http(s) URL without spaces or <>|')
      .optional(),
    service: z.string().min(1).max(100).optional(),
    services: z.array(z.string().min(1).max(100)).min(1).max(LIMITS.services).optional(),
    environment: environmentName,
    author: z
      .strictObject({
        slack_id: z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'expected a Slack user id like U0123ABC').optional(),
        // Enterprise managed users have logins like `jdoe_acme`; apps post as `name[bot]`.
        github: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38})(?:\[bot\])?$/, 'expected a GitHub login').optional(),
        email: z.string().email('expected an email address').max(320).optional(),
        name: text(100).optional(),
      })
      .refine((a) => a.slack_id || a.github || a.email, 'needs at least one of slack_id, github or email'),
    ai_assisted: z.boolean({ error: 'expected true or false' }).optional(),
    ai_tool: text(100).optional(),
    ai_share: z.number().min(0, 'expected a share between 0 and 1').max(1, 'expected a share between 0 and 1').optional(),
    labels: z.array(text(LIMITS.label)).max(LIMITS.labels).optional(),
    commits: z
      .array(z.strictObject({ sha, message: z.string().max(LIMITS.commitMessage) }))
      .max(LIMITS.commits)
      .optional(),
    head_sha: fullSha.optional(),
    diff: z
      .strictObject({
        files_changed: count,
        additions: count,
        deletions: count,
        paths: changedPaths.default([]),
      })
      .optional(),
    terraform_plan: z.record(z.string(), z.unknown(), { error: 'expected the JSON object printed by `terraform show -json PLAN`' }).optional(),
  })
  .superRefine((v, ctx) => {
    if (!v.service && !v.services) ctx.addIssue({ code: 'custom', path: ['service'], message: 'is required (or services[])' });
    if (v.service && v.services) ctx.addIssue({ code: 'custom', path: ['services'], message: 'give service or services, not both' });
  });

export type ChangeInput = z.infer<typeof changeInputSchema>;
