import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { Database, Tx } from '../db/client.ts';
import type { Change } from '../domain/change.ts';
import type { Clock, SignOff } from '../domain/types.ts';

/** Who may sign off a team's changes. The Slack adapter adds user-group members; failures fail closed. */
export interface ReviewerDirectory {
  eligibleFor(team: string): Promise<Set<string>>;
}

/**
 * Side effects of state changes (Slack cards, DMs, thread replies). Called inside the transaction
 * that makes the change, so an implementation can enqueue durable outbox rows atomically.
 */
export interface ChangeNotifier {
  changeRegistered(tx: Tx, change: Change): Promise<void>;
  signOffRecorded(tx: Tx, change: Change, signOff: SignOff): Promise<void>;
  statusChanged(tx: Tx, change: Change, from: Change['status'], actor: string, reason?: string | null): Promise<void>;
}

export const silentNotifier: ChangeNotifier = {
  changeRegistered: async () => {},
  signOffRecorded: async () => {},
  statusChanged: async () => {},
};

/** Everything a use case may touch. */
export interface Deps {
  database: Database;
  config: Config;
  clock: Clock;
  reviewers: ReviewerDirectory;
  notifier: ChangeNotifier;
  logger: Logger;
}

/** Seniors listed in config for a team; used directly when Slack (user groups) is off. */
export function configReviewers(config: Config): ReviewerDirectory {
  return {
    async eligibleFor(team: string) {
      return new Set(config.teams.find((t) => t.name === team)?.seniors ?? []);
    },
  };
}
