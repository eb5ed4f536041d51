import type { AiAssessment, ChangeStatus, Commit, DiffStats, InfraSummary, ResolvedAuthor, Risk, SignOff } from './types.ts';

/** A registered change as the domain sees it. */
export interface Change {
  id: number;
  key: string;
  source: string;
  external_id: string;
  title: string;
  description: string | null;
  url: string | null;
  services: string[];
  environment: string;
  team: string;
  author: ResolvedAuthor;
  ai: AiAssessment;
  labels: string[];
  commits: Commit[];
  head_sha: string | null;
  /** SHA-256 of the terraform plan's canonical JSON (`planDigest`), when the change has a plan. */
  plan_sha256: string | null;
  /** When the pull request was merged (GitHub changes). */
  merged_at: Date | null;
  /** `updated_at` of the last GitHub pull_request event applied (older events are stale). */
  pr_updated_at: Date | null;
  /** The GitHub App installation of a pull request change (null: registered without the App). */
  github_installation_id: number | null;
  /** The merge commit of a merged pull request. */
  merge_commit_sha: string | null;
  /** Still reading the pull request's files and commits from GitHub: not decided yet. */
  awaiting_read: boolean;
  /** Registered while its team was in shadow mode (the gate did not block it). */
  shadow: boolean;
  /** Set when someone in `break_glass.allowed` opened the gate before sign-off. */
  breakglass: BreakGlass | null;
  diff: DiffStats | null;
  infra: InfraSummary | null;
  risk: Risk;
  /** The touched services plus everything that transitively depends on them. */
  blast_radius: string[];
  approvals_required: number;
  status: ChangeStatus;
  round: number;
  /** Escalation steps taken: 0 none, 1 reminded, 2 escalated, 3 expired. */
  escalation_step: 0 | 1 | 2 | 3;
  claimed_by: string | null;
  claimed_at: Date | null;
  /** The senior asked first (load-aware assignment), or null. */
  assigned_to: string | null;
  submitted_by: string;
  created_at: Date;
  /** When the current review round started: escalation (reminder, escalation, expiry) counts from here. */
  round_started_at: Date;
  updated_at: Date;
  decided_at: Date | null;
  sign_offs: SignOff[];
}

/** A break-glass use: who opened the gate without sign-off, why, and when. */
export interface BreakGlass {
  by: string;
  reason: string;
  at: Date;
}

const KEY = /^CHG-(\d{1,9})$/i;

export const changeKey = (id: number): string => `CHG-${id}`;

/** The numeric id in `CHG-12` (case-insensitive), or null for anything else. */
export function parseChangeKey(key: string): number | null {
  const m = KEY.exec(key.trim());
  if (!m) return null;
  const id = Number(m[1]);
  return id > 0 && id <= 2_147_483_647 ? id : null;
}
