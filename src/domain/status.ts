import type { ChangeStatus } from './types.ts';

/** Statuses from which nothing moves on (except a new review round on new commits). */
export const FINAL_STATUSES: readonly ChangeStatus[] = ['approved', 'approved_breakglass', 'rejected', 'expired', 'cancelled'];

export const isFinal = (s: ChangeStatus): boolean => FINAL_STATUSES.includes(s);

export interface GateAnswer {
  httpStatus: 200 | 202 | 403 | 409;
  allowed: boolean;
  /** Set with 409: the change is approved, but for another artifact than the one asked about. */
  stale?: StaleApproval;
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
      if (artifacts.requestedSha != null && !sameArtifact(artifacts.approvedSha, artifacts.requestedSha)) {
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
