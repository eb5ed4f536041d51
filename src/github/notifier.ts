import type { Tx } from '../db/client.ts';
import { enqueue } from '../db/repositories/outbox.ts';
import { githubGroup, outboxMessage, type OutboxMessage } from '../delivery/messages.ts';
import type { Change } from '../domain/change.ts';
import { answerHeld } from '../use-cases/handle-github-deployment.ts';
import type { ChangeNotifier, Deps } from '../use-cases/ports.ts';

/** The GitHub rows of one change go in one group, in order; `channel` only names the repository (no pacing). */
const row = (change: Pick<Change, 'id' | 'external_id'>, kind: 'github_read_pr' | 'github_check_run' | 'github_deployment_answer', payload: Record<string, number>): OutboxMessage =>
  outboxMessage(kind, githubGroup(change), `github:${change.external_id.split('#')[0]}`, payload as never);

export const checkRunSync = (change: Change): OutboxMessage => row(change, 'github_check_run', { change_id: change.id });

/**
 * GitHub side effects of state changes, as outbox rows in the same transaction: reading a pull
 * request (at registration and on each new round), keeping its `Countersign` check run current, and
 * answering the deployment protection rules that wait on a decision. Only for changes that came
 * through the GitHub App (they carry an installation).
 */
export function githubNotifier(deps: Pick<Deps, 'config' | 'clock'>): ChangeNotifier {
  const viaApp = (c: Pick<Change, 'github_installation_id'>) => c.github_installation_id !== null;

  async function sync(tx: Tx, change: Change, extra: OutboxMessage[] = []): Promise<void> {
    if (!viaApp(change)) return;
    await enqueue(tx, [...extra, checkRunSync(change), ...(await answerHeld(deps, tx, change))]);
  }

  return {
    registrationRows(change) {
      if (!viaApp(change)) return [];
      const channel = 'github';
      return [
        ...(change.awaiting_read ? [{ kind: 'github_read_pr' as const, groupPrefix: 'github', channel, extra: { round: 1 } }] : []),
        { kind: 'github_check_run' as const, groupPrefix: 'github', channel },
      ];
    },
    signOffRecorded: (tx, change) => sync(tx, change),
    statusChanged: (tx, change) => sync(tx, change),
    escalated: async () => {},
    claimChanged: async () => {},
    digest: async () => {},
    changeRevised: (tx, change, _before, revision) =>
      // A new round (new commits, a reopen) is read again before it is decided.
      sync(tx, change, revision.kind === 'new_round' && change.awaiting_read ? [row(change, 'github_read_pr', { change_id: change.id, round: change.round })] : []),
    breakGlassUsed: (tx, change) => sync(tx, change),
    // Held deployment requests are answered by the freeze watcher once nothing holds them.
    freezeBoundary: async () => {},
  };
}

/** Several notifiers as one: each is told of every state change, in order; intake rows are concatenated. */
export function composeNotifiers(...all: ChangeNotifier[]): ChangeNotifier {
  const each =
    <K extends Exclude<keyof ChangeNotifier, 'registrationRows'>>(k: K) =>
    async (...args: Parameters<ChangeNotifier[K]>): Promise<void> => {
      for (const n of all) await (n[k] as (...a: Parameters<ChangeNotifier[K]>) => Promise<void>)(...args);
    };
  return {
    registrationRows: (change) => all.flatMap((n) => n.registrationRows(change)),
    signOffRecorded: each('signOffRecorded'),
    statusChanged: each('statusChanged'),
    escalated: each('escalated'),
    claimChanged: each('claimChanged'),
    digest: each('digest'),
    changeRevised: each('changeRevised'),
    breakGlassUsed: each('breakGlassUsed'),
    freezeBoundary: each('freezeBoundary'),
  };
}
