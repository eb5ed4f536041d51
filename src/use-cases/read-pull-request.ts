import type { AuditEvent } from '../db/repositories/audit.ts';
import { detectAiAssistance } from '../domain/ai-detection.ts';
import type { Change } from '../domain/change.ts';
import { normaliseRepoPath } from '../domain/paths.ts';
import { evaluatePolicy } from '../domain/policy.ts';
import { reviseRisk } from '../domain/revision.ts';
import { countApprovals } from '../domain/sign-off.ts';
import type { AiAssessment } from '../domain/types.ts';
import { LIMITS } from './change-input.ts';
import { applyTransition, withLockedChange } from './locked-change.ts';
import type { Deps } from './ports.ts';

/** What reading a pull request from GitHub found. */
export interface PullRequestContents {
  files: { filename: string; previous_filename?: string; additions: number; deletions: number }[];
  commits: { sha: string; message: string }[];
}

/**
 * Decides a pull request change from its files and commits, read for review round `round`: the
 * paths (both names of a rename) become `diff.paths`, every commit message is read for AI trailers,
 * and the policy runs on the complete picture. The risk only ever rises (a lower outcome keeps what
 * was stored); a change that needs no sign-off is approved, as at intake. A read for an older round,
 * or one already applied, is superseded and changes nothing.
 */
export async function applyPullRequestRead(deps: Deps, changeId: number, round: number, read: PullRequestContents): Promise<'applied' | 'superseded'> {
  const { config } = deps;
  const result = await withLockedChange(deps, changeId, async (tx, change, now) => {
    if (!change.awaiting_read || change.round !== round) return 'superseded' as const;
    const paths = [...new Set(read.files.flatMap((f) => [f.filename, f.previous_filename]).filter((p): p is string => Boolean(p)).flatMap((p) => {
      const n = normaliseRepoPath(p);
      return n.ok ? [n.path] : [];
    }))].slice(0, LIMITS.paths);
    const diff = { files_changed: read.files.length, additions: sum(read.files, 'additions'), deletions: sum(read.files, 'deletions'), paths };
    const commits = read.commits.slice(0, LIMITS.commits).map((c) => ({ sha: c.sha.toLowerCase(), message: c.message.slice(0, LIMITS.commitMessage) }));
    const fromCommits = detectAiAssistance({ commits, labels: change.labels, author: change.author }, { ...config.ai_detection, bodyMarkers: config.github.ai_body_markers });
    const ai = strongerAi(change.ai, fromCommits);
    const outcome = evaluatePolicy(config.policy, { services: change.services, environment: change.environment, author: change.author, ai, diff, infra: change.infra, labels: change.labels, blast_radius: change.blast_radius });
    // Never lower: take the higher of what intake stored and what the full picture says. A decision
    // made meanwhile stands (a rejection, a break-glass); an approval stands unless the risk rose past it.
    const r = reviseRisk(change, outcome, ai);
    const approvals = countApprovals(change.sign_offs, change.round);
    const status = r.status === 'pending' && (r.approvals_required === 0 || approvals >= r.approvals_required) ? 'approved' : r.status;
    const events: AuditEvent[] = [
      { actor: 'github', action: 'pull_request_read', changeId, data: { round, files: read.files.length, commits: commits.length, paths: paths.length, ai_assisted: r.ai.assisted, risk: { from: change.risk.level, to: r.risk.level }, approvals_required: r.approvals_required } },
    ];
    if (status !== change.status) {
      const reason = status === 'approved' ? (r.approvals_required === 0 ? 'the pull request was read: it needs no sign-off' : 'the pull request was read: its sign-offs cover it') : (r.reopened ?? 'the pull request was read');
      events.push({ actor: 'policy', action: 'status_changed', changeId, data: { from: change.status, to: status, reason } });
    }
    const after = await applyTransition(tx, change, now, {
      set: { diff, commits, ai: r.ai, aiAssisted: r.ai.assisted, riskLevel: r.risk.level, riskReasons: r.risk.reasons, approvalsRequired: r.approvals_required, status, decidedAt: status === change.status ? change.decided_at : status === 'pending' ? null : now, awaitingRead: false },
      guard: { round, awaitingRead: true },
      events,
      notify: (tx, after, before) => deps.notifier.changeRevised(tx, after, before, { kind: 'pull_request_read', files: read.files.length, commits: commits.length }),
    });
    return after ? ('applied' as const) : ('superseded' as const);
  });
  return result ?? 'superseded';
}

const sum = (files: PullRequestContents['files'], key: 'additions' | 'deletions') => Math.min(10_000_000, files.reduce((n, f) => n + (f[key] ?? 0), 0));

/** The assessment that says AI-assisted, when either does (a read never clears what intake found). */
function strongerAi(stored: AiAssessment, read: AiAssessment): AiAssessment {
  if (!read.assisted) return stored;
  if (!stored.assisted) return read;
  return { ...read, reasons: [...new Set([...stored.reasons, ...read.reasons])] };
}

/** True when the change is a pull request the App reads (for the sender to skip superseded rows fast). */
export const awaitsRead = (c: Change, round: number) => c.awaiting_read && c.round === round;
