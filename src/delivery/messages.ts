import type { KnownBlock } from '@slack/types';
import { z } from 'zod';

/**
 * The outbox contract: every kind of durable write (a Slack post, an edit, a DM…), its payload
 * schema, its delivery target, and the references to messages Countersign owns. Rows are written
 * with `outboxMessage` (typed) in the transaction of the state change, and read back with
 * `parseOutboxRow` (validated) by the sender of their target: a malformed row is never delivered
 * half-read.
 */

/** Messages Countersign posts once and then edits: a change's card, an incident's broadcast. */
export type OwnedRef = { kind: 'card'; id: number } | { kind: 'incident'; id: number };

/** `card:12`, `incident:3`: how an owned message is named in the outbox and in `slack_messages`. */
export const refOf = (r: OwnedRef): string => `${r.kind}:${r.id}`;
export const cardRef = (change: { id: number }): string => refOf({ kind: 'card', id: change.id });
export const incidentRef = (incident: { id: number }): string => refOf({ kind: 'incident', id: incident.id });

/** The owned message a ref names, or null for anything else. */
export function parseRef(ref: string): OwnedRef | null {
  const m = /^(card|incident):(\d{1,10})$/.exec(ref);
  return m ? { kind: m[1] as OwnedRef['kind'], id: Number(m[2]) } : null;
}

const id = z.number().int().positive();
const text = z.string().min(1).max(40_000);
/** A Block Kit block: an object with a `type` (Slack validates the rest and answers invalid_blocks). */
const block = z.custom<KnownBlock>((b) => typeof b === 'object' && b !== null && !Array.isArray(b) && typeof (b as { type?: unknown }).type === 'string', 'expected a Block Kit block');
const ownedRef = z.string().refine((r) => parseRef(r) !== null, 'expected card:<id> or incident:<id>');

/** Each kind's payload. */
export const PAYLOADS = {
  /** A change's card, rendered from current state at delivery and posted once. */
  card_post: z.strictObject({ change_id: id }),
  /** The card edited in place to show current state (skipped when a later edit is queued). */
  card_update: z.strictObject({ change_id: id }),
  /** An incident broadcast, rendered from current state at delivery and posted once. */
  incident_post: z.strictObject({ incident_id: id }),
  incident_update: z.strictObject({ incident_id: id }),
  /** A reply in the thread of an owned message (a card's trail). */
  thread_reply: z.strictObject({ ref: ownedRef, text }),
  /** A DM by Slack user id, or by email (resolved with users.lookupByEmail at delivery). */
  dm: z.strictObject({ user: z.string().regex(/^[UW][A-Z0-9]+$/).optional(), email: z.string().email().optional(), text }).refine((p) => p.user || p.email, 'needs user or email'),
  /** A message posted as rendered (escalations, digests, alerts); `ref` makes it an owned message posted once. */
  message: z.strictObject({ text, blocks: z.array(block).max(50).optional(), ref: z.string().min(1).max(200).optional() }),
  /** Read a pull request change's files and commits from GitHub, then decide it (round: the review round it reads for). */
  github_read_pr: z.strictObject({ change_id: id, round: z.number().int().positive() }),
  /** Bring the `Countersign` check run of the change's current head up to date (created once per head, then updated). */
  github_check_run: z.strictObject({ change_id: id }),
  /** Answer a deployment protection rule request (its answer is decided and stored when this row is written). */
  github_deployment_answer: z.strictObject({ request_id: id }),
} as const;

export type OutboxKind = keyof typeof PAYLOADS;
export type PayloadOf<K extends OutboxKind> = z.infer<(typeof PAYLOADS)[K]>;

export type DeliveryTarget = 'slack' | 'github';

/** Where each kind is delivered: each target has its own sender, claiming only its rows. */
export const TARGET = {
  card_post: 'slack',
  card_update: 'slack',
  incident_post: 'slack',
  incident_update: 'slack',
  thread_reply: 'slack',
  dm: 'slack',
  message: 'slack',
  github_read_pr: 'github',
  github_check_run: 'github',
  github_deployment_answer: 'github',
} as const satisfies Record<OutboxKind, DeliveryTarget>;

/** The kinds one target's sender delivers. */
export type KindFor<T extends DeliveryTarget> = { [K in OutboxKind]: (typeof TARGET)[K] extends T ? K : never }[OutboxKind];

/** The ordering group of every GitHub row of one change: its read, its check runs, its deployment answers. */
export const githubGroup = (change: { id: number }): string => `github:${change.id}`;

/** A row to enqueue: rows of one `groupKey` are delivered in order; `channel` paces posts (1 per second). */
export interface OutboxMessage<K extends OutboxKind = OutboxKind> {
  kind: K;
  groupKey: string;
  channel: string;
  payload: PayloadOf<K>;
}

/** A typed outbox row, checked against its kind's schema (throws on a programming error). */
export function outboxMessage<K extends OutboxKind>(kind: K, groupKey: string, channel: string, payload: PayloadOf<K>): OutboxMessage<K> {
  return { kind, groupKey, channel, payload: PAYLOADS[kind].parse(payload) as PayloadOf<K> };
}

/** A stored row's kind and payload, validated; one variant per kind so a sender can switch on `kind`. */
export type ParsedOutbox = { [K in OutboxKind]: { kind: K; payload: PayloadOf<K> } }[OutboxKind];
/** A parsed row of one target's kinds: its sender's switch covers exactly these. */
export type ParsedFor<T extends DeliveryTarget> = Extract<ParsedOutbox, { kind: KindFor<T> }>;

type Parsed<M> = { ok: true; message: M } | { ok: false; error: string };

/**
 * Parses a stored row; an unknown kind, a payload that does not fit its schema, or (given `target`)
 * a kind another target delivers is an error naming why.
 */
export function parseOutboxRow(row: { kind: string; payload: unknown }): Parsed<ParsedOutbox>;
export function parseOutboxRow<T extends DeliveryTarget>(row: { kind: string; payload: unknown }, target: T): Parsed<ParsedFor<T>>;
export function parseOutboxRow(row: { kind: string; payload: unknown }, target?: DeliveryTarget): Parsed<ParsedOutbox> {
  if (!isOutboxKind(row.kind)) return { ok: false, error: `unknown outbox kind ${JSON.stringify(row.kind.slice(0, 50))}` };
  const kind = row.kind;
  if (target && TARGET[kind] !== target) return { ok: false, error: `${kind} rows are delivered to ${TARGET[kind]}, not ${target}` };
  const parsed = PAYLOADS[kind].safeParse(row.payload);
  if (!parsed.success) return { ok: false, error: `malformed ${kind} payload: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  return { ok: true, message: { kind, payload: parsed.data } as ParsedOutbox };
}

const isOutboxKind = (kind: string): kind is OutboxKind => Object.hasOwn(PAYLOADS, kind);

/** A row's kind as a metric label: a stored kind no release knows counts as `unknown` (a bounded label set). */
export const kindLabel = (kind: string): string => (isOutboxKind(kind) ? kind : 'unknown');

/** The change a row is about (for logs of dead rows), when its payload names one. */
export function changeIdOf(message: ParsedOutbox): number | null {
  if (message.kind === 'card_post' || message.kind === 'card_update') return message.payload.change_id;
  if (message.kind === 'thread_reply') {
    const r = parseRef(message.payload.ref);
    return r?.kind === 'card' ? r.id : null;
  }
  return null;
}
