import type { Logger } from 'pino';
import type { OutboxKind } from '../delivery/messages.ts';
import type { Config } from '../config/schema.ts';
import type { Database, Tx } from '../db/client.ts';
import type { Change } from '../domain/change.ts';
import type { FreezePeriod } from '../domain/freezes.ts';
import type { Deployment, Incident, IncidentSuspect } from '../domain/incident.ts';
import type { Clock, SignOff } from '../domain/types.ts';

/** Who may sign off a team's changes. The Slack adapter adds user-group members; failures fail closed. */
export interface ReviewerDirectory {
  eligibleFor(team: string): Promise<Set<string>>;
  /**
   * A person's profile email, to tell whether a reviewer is the author known only by email:
   * the address, null when the profile has none, undefined when it could not be looked up.
   */
  emailOf(user: string): Promise<string | null | undefined>;
}

/**
 * Side effects of state changes (Slack cards, DMs, thread replies). Called inside the transaction
 * that makes the change, so an implementation can enqueue durable outbox rows atomically.
 */
export interface ChangeNotifier {
  /**
   * The outbox rows a newly registered change causes (its card, reading its pull request), as data:
   * intake writes the change, its audit trail and these rows in one statement (one round trip).
   * Each row's payload is `{ change_id, ...extra }` and its group `<groupPrefix>:<change id>`, filled
   * in with the id the statement allocates.
   */
  registrationRows(change: Pick<Change, 'status' | 'team' | 'awaiting_read' | 'github_installation_id'>): IntakeRow[];
  signOffRecorded(tx: Tx, change: Change, signOff: SignOff): Promise<void>;
  statusChanged(tx: Tx, change: Change, from: Change['status'], actor: string, reason?: string | null): Promise<void>;
  /** A reminder (step 1) or an escalation (step 2) is due for a pending change. */
  escalated(tx: Tx, change: Change, step: 1 | 2, info: EscalationInfo): Promise<void>;
  /** The claim on a change changed (claimed, released or lapsed): the card shows who reviews. */
  claimChanged(tx: Tx, change: Change): Promise<void>;
  /** The digest of pending changes for one channel. */
  digest(tx: Tx, channel: string, items: DigestItem[]): Promise<void>;
  /**
   * A registered change was revised from outside (new commits, new labels, a merge): its card is
   * re-rendered (or posted, when it now needs sign-off and had no card), with a note in its thread.
   */
  changeRevised(tx: Tx, change: Change, before: Change, revision: Revision): Promise<void>;
  /** Someone opened the gate under break-glass: the escalation channel is alerted and the card says so. */
  breakGlassUsed(tx: Tx, change: Change): Promise<void>;
  /**
   * A freeze started or ended (called once per boundary across replicas): the escalation channel is
   * told, and the cards of the waiting changes it covers show (or stop showing) the freeze.
   */
  freezeBoundary(tx: Tx, boundary: 'started' | 'ended', freeze: FreezePeriod, covered: Change[]): Promise<void>;
}

/** An outbox row written with a new change (see `registrationRows`). */
export interface IntakeRow {
  kind: OutboxKind;
  groupPrefix: string;
  channel: string;
  extra?: Record<string, unknown>;
}

/** How a change was revised after intake. */
export type Revision =
  /** New commits: review round `change.round` started for head `to_sha`; earlier sign-offs stop counting. */
  | { kind: 'new_round'; from_sha: string | null; to_sha: string }
  /** Labels changed and the re-evaluated risk rose (`reopened`: why an approved change went back to pending). */
  | { kind: 'risk_raised'; reopened: string | null }
  /** The pull request's files and commits were read from GitHub and the change decided from them. */
  | { kind: 'pull_request_read'; files: number; commits: number };

export interface EscalationInfo {
  /** Who the reminder mentions (the claimer, or the eligible seniors who have not signed). */
  targets: string[];
  /** Everyone the change still waits on. */
  waitingOn: string[];
  ageMs: number;
  /** The next step and when it is due, for "escalates at …". */
  next: { step: number; at: Date } | null;
}

export interface DigestItem {
  change: Change;
  /** The card's permalink, when known (filled in by the Slack notifier). */
  permalink?: string | null;
  ageMs: number;
  claimer: string | null;
  waitingOn: string[];
}

export const silentNotifier: ChangeNotifier = {
  registrationRows: () => [],
  signOffRecorded: async () => {},
  statusChanged: async () => {},
  escalated: async () => {},
  claimChanged: async () => {},
  digest: async () => {},
  changeRevised: async () => {},
  breakGlassUsed: async () => {},
  freezeBoundary: async () => {},
};

/**
 * Side effects of deployments and incidents (the incident broadcast, card threads, DMs, the ungated
 * deploy alert). Called inside the transaction that makes the change, like ChangeNotifier.
 */
export interface IncidentNotifier {
  /** A deployment was recorded by `deployer`; `incidents` are the open incidents it may now be a suspect of. */
  deploymentRecorded(tx: Tx, deployment: Deployment, change: Change, incidents: Incident[], deployer: string): Promise<void>;
  /** A new incident, with its suspects at declaration. */
  incidentDeclared(tx: Tx, incident: Incident, suspects: IncidentSuspect[]): Promise<void>;
  /** An incident changed (resolved, retitled, new services): its broadcast is re-rendered. */
  incidentChanged(tx: Tx, incident: Incident): Promise<void>;
  /** `confirmedBy` confirmed `change` as a cause of `incident`. */
  causeConfirmed(tx: Tx, incident: Incident, change: Change, confirmedBy: string): Promise<void>;
}

export const silentIncidentNotifier: IncidentNotifier = {
  deploymentRecorded: async () => {},
  incidentDeclared: async () => {},
  incidentChanged: async () => {},
  causeConfirmed: async () => {},
};

/** What use cases report once their transaction committed (metrics): never called for work that rolled back. */
export interface Observer {
  /** A change was approved (by its sign-offs). */
  approved(change: Change): void;
  /** `count` changes took an escalation step. */
  escalationSteps(step: 'reminded' | 'escalated' | 'expired', count: number): void;
}

export const silentObserver: Observer = { approved: () => {}, escalationSteps: () => {} };

/** Everything a use case may touch. */
export interface Deps {
  database: Database;
  config: Config;
  clock: Clock;
  reviewers: ReviewerDirectory;
  notifier: ChangeNotifier;
  /** Side effects of deployments and incidents (broadcasts, card threads, DMs, alerts). */
  incidents: IncidentNotifier;
  logger: Logger;
  /** Facts reported after commit (metrics). */
  observe: Observer;
}

/** Seniors listed in config for a team, and emails from `engineers`; used directly when Slack is off. */
export function configReviewers(config: Config): ReviewerDirectory {
  return {
    async eligibleFor(team: string) {
      return new Set(config.resolved.team(team)?.seniors ?? []);
    },
    async emailOf(user: string) {
      return config.engineers.find((e) => e.slack === user)?.email ?? null;
    },
  };
}
