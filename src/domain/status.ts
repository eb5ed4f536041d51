import type { ChangeStatus } from './types.ts';

/** Statuses from which nothing moves on (except a new review round on new commits). */
export const FINAL_STATUSES: readonly ChangeStatus[] = ['approved', 'approved_breakglass', 'rejected', 'expired', 'cancelled'];

export const isFinal = (s: ChangeStatus): boolean => FINAL_STATUSES.includes(s);

/** Which transitions the domain allows; everything else is refused as `already_decided`. */
export function canTransition(from: ChangeStatus, to: ChangeStatus): boolean {
  if (from === 'pending') return to !== 'pending';
  return false;
}

export interface GateAnswer {
  httpStatus: 200 | 202 | 403;
  allowed: boolean;
}

/** The deploy gate: 200 may ship, 202 still pending, 403 refused (rejected, expired, cancelled). */
export function gateFor(status: ChangeStatus): GateAnswer {
  switch (status) {
    case 'approved':
    case 'approved_breakglass':
      return { httpStatus: 200, allowed: true };
    case 'pending':
      return { httpStatus: 202, allowed: false };
    default:
      return { httpStatus: 403, allowed: false };
  }
}
