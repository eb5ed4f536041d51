import type { Change } from '../../src/domain/change.ts';
import type { Decision, SignOff } from '../../src/domain/types.ts';

/** The moment every factory change was registered; tests that need "now" add to it. */
export const CREATED_AT = new Date('2026-03-02T09:00:00Z');

/**
 * A realistic pending domain `Change` as the policy would leave it: an AI-assisted (Copilot) change by a
 * junior to checkout in production, high risk for one reason, needing one senior sign-off.
 * Every call returns fresh arrays and objects, so overrides and mutations never leak between tests.
 */
export function buildChange(overrides: Partial<Change> = {}): Change {
  return {
    id: 12,
    key: 'CHG-12',
    source: 'ci',
    external_id: 'build-4711',
    title: 'Retry payment capture on timeout',
    description: 'Adds a bounded retry around capture.\nRetries at most 3 times with jittered backoff.',
    url: 'https://github.com/acme/shop/pull/42',
    services: ['checkout'],
    environment: 'production',
    team: 'payments',
    author: { slack_id: 'U0JUNIOR', github: 'jdoe', level: 'junior', bot: false, name: 'Jordan Doe' },
    ai: { assisted: true, tool: 'Copilot', share: 0.6, reasons: ['declared AI-assisted by the submitter', 'commit 3f2a9c1 is co-authored by Copilot'] },
    labels: ['ai-assisted'],
    commits: [{ sha: '3f2a9c1d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c', message: 'Retry payment capture on timeout\n\nCo-authored-by: Copilot <copilot@github.com>' }],
    head_sha: '3f2a9c1d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c',
    plan_sha256: null,
    merged_at: null,
    pr_updated_at: null,
    github_installation_id: null,
    merge_commit_sha: null,
    awaiting_read: false,
    shadow: false,
    breakglass: null,
    diff: { files_changed: 3, additions: 120, deletions: 14, paths: ['src/payments/capture.ts', 'src/payments/retry.ts', 'test/capture.test.ts'] },
    infra: null,
    risk: {
      level: 'high',
      reasons: [
        {
          rule: 'ai-change-by-non-senior',
          description: 'AI-assisted change by a junior or mid-level engineer',
          facts: ['AI-assisted (Copilot): declared AI-assisted by the submitter', 'author Jordan Doe is junior'],
          text: 'ai-change-by-non-senior: AI-assisted (Copilot): declared AI-assisted by the submitter; author Jordan Doe is junior',
        },
      ],
    },
    approvals_required: 1,
    status: 'pending',
    round: 1,
    escalation_step: 0,
    blast_radius: ['checkout'],
    claimed_by: null,
    claimed_at: null,
    assigned_to: null,
    submitted_by: 'ci',
    created_at: new Date(CREATED_AT),
    round_started_at: new Date(CREATED_AT),
    updated_at: new Date(CREATED_AT),
    decided_at: null,
    sign_offs: [],
    ...overrides,
  };
}

/** A sign-off in round 1, an hour after the change was registered; rejections get a default reason. */
export function signOff(reviewer: string, decision: Decision = 'approved', extra: Partial<SignOff> = {}): SignOff {
  return {
    reviewer,
    decision,
    reason: decision === 'rejected' ? 'The retry needs a cap on total latency.' : null,
    at: new Date(CREATED_AT.getTime() + 3_600_000),
    round: 1,
    ...extra,
  };
}
