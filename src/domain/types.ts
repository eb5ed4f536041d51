/** Core domain types shared by policy, sign-off rules, escalation and incidents. Pure data, no I/O. */

export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const AUTHOR_LEVELS = ['junior', 'mid', 'senior', 'principal', 'unknown'] as const;
export type AuthorLevel = (typeof AUTHOR_LEVELS)[number];

export const CHANGE_STATUSES = ['pending', 'approved', 'approved_breakglass', 'rejected', 'expired', 'cancelled'] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

export type Decision = 'approved' | 'rejected';

/** A clock injected everywhere time matters, so tests control it. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface AuthorRef {
  slack_id?: string;
  github?: string;
  email?: string;
  name?: string;
}

/** The author as resolved against the `engineers` list of the config. */
export interface ResolvedAuthor extends AuthorRef {
  level: AuthorLevel;
  /** True when the author is a bot account (e.g. a GitHub login ending in `[bot]`). */
  bot: boolean;
}

export interface Commit {
  sha: string;
  message: string;
}

export interface DiffStats {
  files_changed: number;
  additions: number;
  deletions: number;
  paths: string[];
}

export interface RiskReason {
  rule: string;
  description: string;
  /** The facts behind the match, in words a reviewer can act on. */
  facts: string[];
  /** `rule: fact; fact` as one line. */
  text: string;
}

export interface Risk {
  level: RiskLevel;
  reasons: RiskReason[];
}

export interface AiAssessment {
  assisted: boolean;
  tool: string | null;
  share: number | null;
  /** Why it counts as AI-assisted (or that it was declared). Empty when not assisted. */
  reasons: string[];
}

export interface DestroyedResource {
  address: string;
  /** `delete`, `replace (destroy first)` or `replace (create first)`. */
  action: 'delete' | 'replace';
  reason: string | null;
}

export interface InfraSummary {
  format_version: string;
  creates: number;
  updates: number;
  /** Plain deletes. */
  deletes: number;
  /** Replacements in either order. */
  replaces: number;
  /** deletes + replaces: everything that destroys a resource. */
  destroys: number;
  /** The destroyed resources, in plan order (capped). */
  destroyed: DestroyedResource[];
}

export interface SignOff {
  reviewer: string;
  decision: Decision;
  reason: string | null;
  at: Date;
  /** Review round: new commits start a new round and earlier sign-offs stop counting. */
  round: number;
  /** The head SHA this sign-off covered (null when the change had none). */
  head_sha?: string | null;
  /** The terraform plan digest this sign-off covered (null when the change had no plan). */
  plan_sha256?: string | null;
}

/** Everything the policy looks at, after intake has resolved the author, AI assistance and the plan. */
export interface ChangeFacts {
  services: string[];
  environment: string;
  author: ResolvedAuthor;
  ai: AiAssessment;
  diff: DiffStats | null;
  infra: InfraSummary | null;
  labels: string[];
  /** The touched services plus every service that transitively depends on them. */
  blast_radius?: string[];
}
