import type { Config } from '../config/schema.ts';
import { detectAiAssistance } from '../domain/ai-detection.ts';
import { resolveAuthor } from '../domain/authors.ts';
import { fieldIssues } from '../config/issues.ts';
import { invalid, type FieldIssue, type Refusal } from '../domain/errors.ts';
import { evaluatePolicy, type PolicyOutcome } from '../domain/policy.ts';
import { analyzeTerraformPlan } from '../domain/terraform.ts';
import type { AiAssessment, DiffStats, InfraSummary, ResolvedAuthor } from '../domain/types.ts';
import { changeInputSchema, type ChangeInput } from './change-input.ts';

/** What an adapter knows beyond the body that changes the decision (see `IntakeHints` in register-change.ts). */
export interface DecisionHints {
  /** The pull request body, read for `github.ai_body_markers`. */
  body?: string | null;
  /** The author is a bot account even without a `[bot]` login. */
  bot?: boolean;
  /** The pull request's files and commits will be read first: the change stays pending until then. */
  awaitingRead?: boolean;
}

/** The facts intake found and what the policy made of them. */
export interface IntakeDecision {
  ok: true;
  services: string[];
  author: ResolvedAuthor;
  ai: AiAssessment;
  diff: DiffStats | null;
  labels: string[];
  infra: InfraSummary | null;
  blastRadius: string[];
  outcome: PolicyOutcome;
  status: 'pending' | 'approved';
}

/** `environment` is refused when `environments` is configured and does not list it (names compare lowercase). */
export function environmentIssue(config: Config, environment: string): FieldIssue | null {
  const known = config.environments;
  if (!known || known.includes(environment.toLowerCase())) return null;
  return { path: 'environment', message: `unknown environment "${environment}"; known environments: ${known.join(', ')}` };
}

/** A service name the config does not declare is refused, naming `path` and listing the declared ones. */
export function serviceIssue(config: Config, service: string, path: string): FieldIssue | null {
  const known = config.resolved.serviceNames;
  return known.has(service) ? null : { path, message: `unknown service "${service}"; known services: ${[...known].join(', ')}` };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What only the config can tell about an intake body: unknown services, an unknown environment,
 * author fields naming different engineers, a plan terraform would not print. Works on a body that
 * failed the schema too (each field is checked when it has the right type), so one 400 lists
 * every problem at once.
 */
export function intakeIssues(config: Config, body: unknown): { issues: FieldIssue[]; infra: InfraSummary | null } {
  const issues: FieldIssue[] = [];
  let infra: InfraSummary | null = null;
  if (!isRecord(body)) return { issues, infra };
  const unknownService = (s: unknown, path: string) => {
    const issue = typeof s === 'string' ? serviceIssue(config, s, path) : null;
    if (issue) issues.push(issue);
  };
  if (Array.isArray(body.services)) body.services.forEach((s, i) => unknownService(s, `services[${i}]`));
  else unknownService(body.service, 'service');
  if (typeof body.environment === 'string') {
    const envIssue = environmentIssue(config, body.environment);
    if (envIssue) issues.push(envIssue);
  }
  if (isRecord(body.terraform_plan)) {
    const plan = analyzeTerraformPlan(body.terraform_plan);
    if (plan.ok) infra = plan.summary;
    else issues.push({ path: `terraform_plan${plan.path ? `.${plan.path}` : ''}`, message: plan.message });
  }
  if (isRecord(body.author)) {
    const a = body.author;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const resolution = resolveAuthor({ slack_id: str(a.slack_id), github: str(a.github), email: str(a.email) }, config.engineers, config.ai_detection.bot_accounts);
    if (!resolution.ok) issues.push({ path: 'author', message: resolution.message });
  }
  return { issues, infra };
}

/**
 * A body checked as `POST /api/changes` checks it: the schema's problems and the config's, all at
 * once (each field the config can judge is judged even when another field failed the schema).
 */
export function validateIntake(config: Config, body: unknown): { ok: true; input: ChangeInput } | { ok: false; issues: FieldIssue[] } {
  const parsed = changeInputSchema.safeParse(body);
  if (!parsed.success) {
    const schema = fieldIssues(parsed.error);
    const seen = new Set(schema.map((i) => i.path));
    return { ok: false, issues: [...schema, ...intakeIssues(config, body).issues.filter((i) => !seen.has(i.path))] };
  }
  return { ok: true, input: parsed.data };
}

/**
 * Decides a change from config and body alone: resolves the author, detects AI assistance,
 * summarises the terraform plan, takes the blast radius and applies the policy. Pure, so the server
 * (`registerChange`) and `countersign policy test` decide alike. Call it on a body that passed
 * `changeInputSchema`; what `intakeIssues` finds (unknown services, author, plan) is refused here.
 */
export function decideIntake(config: Config, input: ChangeInput, hints: DecisionHints = {}): IntakeDecision | Refusal {
  const services = input.services ?? [input.service!];
  const { issues, infra } = intakeIssues(config, input);
  const resolution = resolveAuthor(input.author, config.engineers, config.ai_detection.bot_accounts);
  if (issues.length || !resolution.ok) return invalid(issues);
  const resolved = resolution.author;
  const author = hints.bot && !resolved.bot ? { ...resolved, bot: true } : resolved;
  const ai = detectAiAssistance({ ...input, author, body: hints.body }, { ...config.ai_detection, bodyMarkers: config.github.ai_body_markers });
  const diff = input.diff ?? null;
  const labels = input.labels ?? [];
  const blastRadius = config.resolved.graph.blastRadius(services);
  const outcome = evaluatePolicy(config.policy, { services, environment: input.environment, author, ai, diff, infra, labels, blast_radius: blastRadius });
  // A pull request that will be read is not decided until then: it never passes as low risk because GitHub was slow.
  const status = outcome.approvals_required === 0 && !hints.awaitingRead ? 'approved' : 'pending';
  return { ok: true, services, author, ai, diff, labels, infra, blastRadius, outcome, status };
}
