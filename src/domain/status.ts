import type { FreezePeriod } from './freezes.ts';
import type { ChangeStatus } from './types.ts';

/** Statuses from which nothing moves on (except a new review round on new commits). */
export const FINAL_STATUSES: readonly ChangeStatus[] = ['approved', 'approved_breakglass', 'rejected', 'expired', 'cancelled'];

export const isFinal = (s: ChangeStatus): boolean => FINAL_STATUSES.includes(s);

export interface GateAnswer {
  httpStatus: 200 | 202 | 403 | 409;
  allowed: boolean;
  /** Why a pending answer waits, when it is not for sign-off: the pull request is still being read. */
  reason?: 'reading_pull_request';
  /** Set with 409: the change is approved, but for another artifact than the one asked about. */
  stale?: StaleApproval;
  /** Set while a freeze holds the change's environment (and service): enforce mode answers 403 `frozen`. */
  freeze?: FreezePeriod;
}

/** The gate as answered: enforce mode's answer, or in shadow mode 200 with what enforce mode would say. */
export interface EnforcedGate extends GateAnswer {
  /** False in shadow mode: the gate never blocks. */
  enforced: boolean;
  /** What enforce mode answers (equal to `allowed` in enforce mode). */
  would_allow: boolean;
}

/** What the gate weighs besides the change: whether its team is in shadow mode, and a freeze holding now. */
export interface GateContext {
  shadow: boolean;
  freeze: FreezePeriod | null;
}

/** What an approval covered versus what the gate was asked about (`?sha=` or `?plan_sha256=`). */
export interface StaleApproval {
  artifact: 'sha' | 'plan_sha256';
  approved: string | null;
  requested: string;
}

/** The artifact a gate request pins (each optional) and what the change's approval covers. */
export interface GateArtifacts {
  /** The head SHA the change is approved for (its current head). */
  approvedSha?: string | null;
  /** A pull request's recorded merge commit: its approval covers that artifact too. */
  mergeSha?: string | null;
  /** `?sha=`: a full SHA or a prefix of at least 7 hex characters. */
  requestedSha?: string | null;
  /** The plan digest the change is approved for. */
  approvedPlan?: string | null;
  /** `?plan_sha256=`: a full digest or a prefix of at least 7 hex characters. */
  requestedPlan?: string | null;
}

/** The shortest prefix of a SHA (or digest) the gate accepts. */
export const MIN_SHA_PREFIX = 7;

/** A whole SHA-1 (40) or SHA-256 (64) hex digest: only these are stored as what an approval covers. */
export const isFullSha = (s: string): boolean => /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(s);

/**
 * True when `requested` names the artifact `approved`: the stored artifact must be a full SHA or
 * digest, and `requested` is that value or a prefix of it (at least 7 hex characters), ignoring
 * case. Never the other way round: a stored abbreviation could stand for many commits.
 */
export function sameArtifact(approved: string | null | undefined, requested: string): boolean {
  if (!approved) return false;
  const a = approved.trim().toLowerCase();
  const r = requested.trim().toLowerCase();
  if (!isFullSha(a) || !/^[0-9a-f]+$/.test(r)) return false;
  return r.length >= MIN_SHA_PREFIX && a.startsWith(r);
}

/**
 * The deploy gate: 200 may ship, 202 still pending, 403 refused (rejected, expired, cancelled).
 * When the gate is asked about an artifact (`?sha=`, `?plan_sha256=`), an approved change answers
 * 409 unless its approval covers exactly that artifact; every other status answers as usual.
 */
export function gateFor(status: ChangeStatus, artifacts: GateArtifacts = {}): GateAnswer {
  switch (status) {
    case 'approved':
    case 'approved_breakglass': {
      if (artifacts.requestedSha != null && !sameArtifact(artifacts.approvedSha, artifacts.requestedSha) && !sameArtifact(artifacts.mergeSha, artifacts.requestedSha)) {
        return { httpStatus: 409, allowed: false, stale: { artifact: 'sha', approved: artifacts.approvedSha ?? null, requested: artifacts.requestedSha } };
      }
      if (artifacts.requestedPlan != null && !sameArtifact(artifacts.approvedPlan, artifacts.requestedPlan)) {
        return { httpStatus: 409, allowed: false, stale: { artifact: 'plan_sha256', approved: artifacts.approvedPlan ?? null, requested: artifacts.requestedPlan } };
      }
      return { httpStatus: 200, allowed: true };
    }
    case 'pending':
      return { httpStatus: 202, allowed: false };
    default:
      return { httpStatus: 403, allowed: false };
  }
}

/** True while a pull request being read keeps its change undecided (pending, or approved before the read). */
export const readingHolds = (c: { awaiting_read: boolean; status: ChangeStatus }): boolean => c.awaiting_read && (c.status === 'pending' || c.status === 'approved');

/** The part of a change the gate looks at. */
export interface GateSubject {
  status: ChangeStatus;
  head_sha: string | null;
  merge_commit_sha: string | null;
  plan_sha256: string | null;
  awaiting_read: boolean;
}

/**
 * The deploy gate of a change (see `gateFor`), failing closed while a pull request is still being
 * read from GitHub: whatever its status, it answers 202 `reading_pull_request` until then.
 */
export function gateOf(c: GateSubject, request: { sha?: string | null; plan_sha256?: string | null } = {}): GateAnswer {
  // Undecided until read; a rejection (403) or a break-glass (the audited emergency path) stands meanwhile.
  if (readingHolds(c)) return { httpStatus: 202, allowed: false, reason: 'reading_pull_request' };
  return gateFor(c.status, { approvedSha: c.head_sha, mergeSha: c.merge_commit_sha, requestedSha: request.sha, approvedPlan: c.plan_sha256, requestedPlan: request.plan_sha256 });
}

/**
 * The gate with its context. A freeze refuses every status (403 `frozen`) except
 * `approved_breakglass`, the audited way through a freeze. In shadow mode the gate never blocks:
 * it answers 200 `allowed`, and `would_allow` (with any freeze) says what enforce mode would.
 */
export function enforcedGate(c: GateSubject, request: { sha?: string | null; plan_sha256?: string | null }, ctx: GateContext): EnforcedGate {
  const base = gateOf(c, request);
  const enforce: GateAnswer = ctx.freeze && c.status !== 'approved_breakglass' ? { httpStatus: 403, allowed: false, freeze: ctx.freeze } : base;
  if (!ctx.shadow) return { ...enforce, enforced: true, would_allow: enforce.allowed };
  return { ...enforce, httpStatus: 200, allowed: true, enforced: false, would_allow: enforce.allowed };
}
