import { and, eq, isNull, like, or, sql } from 'drizzle-orm';
import type { Change } from '../../domain/change.ts';
import type { DbOrTx } from '../client.ts';
import { changes, deploymentRequests, githubCheckRuns } from '../schema.ts';
import { findChange } from './changes.ts';

/** The pull request change of `repo` whose head or recorded merge commit is `sha` (newest first). */
export async function findChangeBySha(db: DbOrTx, repo: string, sha: string): Promise<Change | null> {
  const s = sha.toLowerCase();
  const [row] = await db
    .select({ id: changes.id })
    .from(changes)
    .where(and(eq(changes.source, 'github'), like(sql`lower(${changes.externalId})`, `${repo.toLowerCase()}#%`), or(eq(changes.headSha, s), eq(changes.mergeCommitSha, s))))
    .orderBy(sql`${changes.id} desc`)
    .limit(1);
  return row ? findChange(db, row.id) : null;
}

/** The check run recorded for a change's head, if one was created. */
export async function checkRunOf(db: DbOrTx, changeId: number, headSha: string): Promise<number | null> {
  const [r] = await db.select({ id: githubCheckRuns.checkRunId }).from(githubCheckRuns).where(and(eq(githubCheckRuns.changeId, changeId), eq(githubCheckRuns.headSha, headSha)));
  return r ? Number(r.id) : null;
}

export async function rememberCheckRun(db: DbOrTx, changeId: number, headSha: string, checkRunId: number, at: Date): Promise<void> {
  await db.insert(githubCheckRuns).values({ changeId, headSha, checkRunId, createdAt: at }).onConflictDoNothing();
}

export type DeploymentRequest = typeof deploymentRequests.$inferSelect;

/** Stores a protection-rule request once (a redelivery of the same callback and environment returns the stored one). */
export async function recordDeploymentRequest(db: DbOrTx, r: Omit<DeploymentRequest, 'id' | 'answer' | 'comment' | 'answeredAt'>): Promise<DeploymentRequest> {
  const [inserted] = await db.insert(deploymentRequests).values(r).onConflictDoNothing().returning();
  if (inserted) return inserted;
  const [existing] = await db.select().from(deploymentRequests).where(and(eq(deploymentRequests.callbackUrl, r.callbackUrl), eq(deploymentRequests.githubEnvironment, r.githubEnvironment)));
  return existing;
}

/** Requests of a change still waiting for an answer, locked so one decision answers each once. */
export async function openDeploymentRequests(db: DbOrTx, changeId: number): Promise<DeploymentRequest[]> {
  return db.select().from(deploymentRequests).where(and(eq(deploymentRequests.changeId, changeId), isNull(deploymentRequests.answeredAt))).for('update');
}

/** Records the answer once; false when the request was answered already (by another replica, or earlier). */
export async function answerDeploymentRequest(db: DbOrTx, id: number, answer: 'approved' | 'rejected', comment: string, at: Date): Promise<boolean> {
  const rows = await db
    .update(deploymentRequests)
    .set({ answer, comment: comment.slice(0, 1000), answeredAt: at })
    .where(and(eq(deploymentRequests.id, id), isNull(deploymentRequests.answeredAt)))
    .returning({ id: deploymentRequests.id });
  return rows.length === 1;
}

export async function findDeploymentRequest(db: DbOrTx, id: number): Promise<DeploymentRequest | null> {
  const [r] = await db.select().from(deploymentRequests).where(eq(deploymentRequests.id, id));
  return r ?? null;
}

/** Changes with deployment requests still held although they are decided (a freeze held them): oldest first. */
export async function changesWithHeldRequests(db: DbOrTx, limit: number): Promise<number[]> {
  const rows = await db
    .selectDistinct({ id: deploymentRequests.changeId })
    .from(deploymentRequests)
    .innerJoin(changes, eq(changes.id, deploymentRequests.changeId))
    .where(and(isNull(deploymentRequests.answeredAt), sql`${changes.status} <> 'pending'`, eq(changes.awaitingRead, false)))
    .orderBy(deploymentRequests.changeId)
    .limit(limit);
  return rows.flatMap((r) => (r.id === null ? [] : [r.id]));
}
