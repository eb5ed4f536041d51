import { parseDuration } from '../domain/duration.ts';
import { escalationTimings, type EscalationTimings } from '../domain/escalation.ts';
import { ServiceGraph } from '../domain/service-graph.ts';
import type { SuspectWindow } from '../domain/suspects.ts';
import type { Freeze } from '../domain/freezes.ts';
import type { ParsedConfig } from './schema.ts';

/**
 * What the config means once, at load: durations in milliseconds (the text stays in the config for
 * messages), the service graph, and the lookups every request needs. Computed when the config is
 * parsed, so no call site re-parses a duration or rebuilds the graph.
 */
export interface ResolvedConfig {
  escalation: EscalationTimings & { claimTimeoutMs: number };
  /** `break_glass.review_within` in ms. */
  breakGlassReviewMs: number;
  /** `incidents.lookback` and `incidents.grace` in ms. */
  suspectWindow: SuspectWindow;
  graph: ServiceGraph;
  /** The declared service names, in config order (unknown-service messages list them). */
  serviceNames: ReadonlySet<string>;
  /** A team's config by name (undefined for an unknown team). */
  team(name: string): ParsedConfig['teams'][number] | undefined;
  /** The owning team of a service (undefined for an unknown service). */
  teamOf(service: string): string | undefined;
  /** The channel a team's cards go to: its senior channel, else the approvals channel. */
  cardChannel(team: string): string;
  /** Whether a team's gate blocks (`enforce`) or only says what it would do (`shadow`). */
  enforcementOf(team: string): 'enforce' | 'shadow';
  /** The freezes, with times resolved. */
  freezes: Freeze[];
}

/** Milliseconds of a duration the schema has already validated. */
function ms(text: string): number {
  const v = parseDuration(text);
  if (v === null) throw new Error(`invalid duration "${text}" passed validation`);
  return v;
}

export function resolveConfig(cfg: ParsedConfig): ResolvedConfig {
  const teamOfService = new Map(cfg.services.map((s) => [s.name, s.team]));
  const teamByName = new Map(cfg.teams.map((t) => [t.name, t]));
  const channelOfTeam = new Map(cfg.teams.map((t) => [t.name, t.channel ?? cfg.slack.approvals_channel]));
  return {
    escalation: { ...escalationTimings(cfg.escalation), claimTimeoutMs: ms(cfg.escalation.claim_timeout) },
    breakGlassReviewMs: ms(cfg.break_glass.review_within),
    suspectWindow: { lookbackMs: ms(cfg.incidents.lookback), graceMs: ms(cfg.incidents.grace) },
    graph: new ServiceGraph(cfg.services),
    serviceNames: new Set(cfg.services.map((s) => s.name)),
    team: (name) => teamByName.get(name),
    teamOf: (service) => teamOfService.get(service),
    cardChannel: (team) => channelOfTeam.get(team) ?? cfg.slack.approvals_channel,
    enforcementOf: (team) => teamByName.get(team)?.enforcement ?? cfg.enforcement,
    freezes: cfg.freezes.map((f): Freeze => ({
      name: f.name,
      reason: f.reason,
      environments: f.environments,
      services: f.services ?? null,
      when: f.from ? { kind: 'window', from: new Date(f.from), to: new Date(f.to!) } : { kind: 'recurring', cron: f.cron!, durationMs: ms(f.duration!), timezone: f.timezone ?? cfg.escalation.timezone },
    })),
  };
}
