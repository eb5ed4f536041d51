/**
 * Policy simulation: what a candidate config would have decided for the changes already registered,
 * next to what the running config decides for the same stored facts, and the review load its
 * assignment would have caused. Pure: changes go in one at a time (any order), the report comes out.
 */
import type { Config } from '../config/schema.ts';
import { pickAssignee, type ReviewerLoad } from './assignment.ts';
import { authorship, resolveAuthor } from './authors.ts';
import { changeKey } from './change.ts';
import { startOfLocalDay } from './local-time.ts';
import { matchRule, maxLevel, type Rule, type RuleConditions } from './policy.ts';
import { RISK_LEVELS, type ChangeFacts, type DiffStats, type InfraSummary, type ResolvedAuthor, type RiskLevel } from './types.ts';

/** What the simulation reads of one stored change: what the policy looks at, and when and by whom it was reviewed. */
export interface SimulationRow {
  id: number;
  title: string;
  services: string[];
  environment: string;
  team: string;
  author: ResolvedAuthor;
  /** What the policy reads of the AI assessment: whether it is AI-assisted and the declared share (the tool and reasons only word the facts). */
  ai_assisted: boolean;
  ai_share: number | null;
  diff: DiffStats | null;
  infra: InfraSummary | null;
  labels: string[];
  assigned_to: string | null;
  /** The distinct reviewers who signed it off (read only when the actual load comes from sign-offs). */
  signers?: readonly string[];
  created_at: Date;
  decided_at: Date | null;
}

/** The parts of a config the simulation uses. */
export type SimulationConfig = Pick<Config, 'policy' | 'engineers' | 'teams' | 'review' | 'escalation' | 'ai_detection'> & { resolved: Pick<Config['resolved'], 'graph' | 'teamOf'> };

export interface SimulationOptions {
  /** The running config: `current` is its policy applied to the same stored facts. */
  current: SimulationConfig;
  candidate: SimulationConfig;
  from: Date;
  to: Date;
  /** Where the actual load comes from: `changes.assigned_to`, or sign-offs when the running config assigns nobody. */
  actualFrom: 'assigned_to' | 'sign_offs';
}

export interface PolicyTotals {
  by_level: Record<RiskLevel, number>;
  needing_sign_off: number;
  by_team: Record<string, { needing_sign_off: number }>;
}

export interface ChangedDecision {
  key: string;
  title: string;
  from: { level: RiskLevel; approvals_required: number };
  to: { level: RiskLevel; approvals_required: number };
  /** The candidate's matching rules, most severe first. */
  rules: string[];
}

export interface SeniorLoad {
  senior: string;
  team: string;
  /** Per working day; null when the window holds no working time. */
  expected_per_day: number | null;
  actual_per_day: number | null;
  expected: number;
  actual: number;
}

export interface SimulationReport {
  window: { from: string; to: string; working_days: number };
  changes: number;
  current: PolicyTotals;
  candidate: PolicyTotals;
  /** How many changes differ in level or approvals_required; `changed` lists the oldest 100. */
  changed_total: number;
  changed: ChangedDecision[];
  /** `least_loaded`: the candidate names one senior per change; `none` (review.assignment: everyone): requests are split equally. */
  assignment: 'least_loaded' | 'none';
  actual_from: 'assigned_to' | 'sign_offs';
  load: SeniorLoad[];
}

/** A stored change decided under one config. */
export interface Redecision {
  level: RiskLevel;
  approvals_required: number;
  team: string;
  author: ResolvedAuthor;
  rules: string[];
}

export const MAX_CHANGED = 100;
const HOUR_MS = 3_600_000;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** Decides stored changes again under `config` (see {@link PolicySimulation}). */
export function redecider(config: SimulationConfig): (row: SimulationRow) => Redecision {
  const conditions = new ConditionMemo();
  const decide = deciderFor(config, conditions);
  return (row) => {
    conditions.nextChange();
    return decide(row, baseFacts(row));
  };
}

/**
 * The report over changes added one at a time. Each change is decided again under both configs as
 * intake decides (`decideIntake`): the stored services, environment, AI assessment, diff, plan
 * summary and labels; the author re-resolved against the config's engineers (the stored author when
 * nobody or several people match); the blast radius from the config's service graph (unknown
 * services count alone); the team of the first service, else the stored team. Reviews are replayed
 * at the end, in created order. Memory: totals, the oldest 100 changed, one small record per review.
 */
export class PolicySimulation {
  private readonly conditions = new ConditionMemo();
  private readonly decideCurrent: Decide;
  private readonly decideCandidate: Decide;
  private readonly eligibleOf: (team: string, author: ResolvedAuthor) => string[];
  private readonly current: PolicyTotals;
  private readonly candidate: PolicyTotals;
  private count = 0;
  private changedTotal = 0;
  /** The oldest changed decisions so far, oldest first, at most MAX_CHANGED. */
  private readonly changed: (ChangedDecision & { at: number; id: number })[] = [];
  private readonly reviews: (SimulatedReview & { id: number })[] = [];
  private readonly actual = new Map<string, { n: number; team: string; at: number }>();

  constructor(private readonly opts: SimulationOptions) {
    this.decideCurrent = deciderFor(opts.current, this.conditions);
    this.decideCandidate = deciderFor(opts.candidate, this.conditions);
    this.eligibleOf = eligibility(opts.candidate);
    this.current = emptyTotals(opts.current.teams);
    this.candidate = emptyTotals(opts.candidate.teams);
  }

  add(row: SimulationRow): void {
    this.count++;
    this.conditions.nextChange();
    const base = baseFacts(row);
    const was = this.decideCurrent(row, base);
    const now = this.decideCandidate(row, base);
    tally(this.current, was);
    tally(this.candidate, now);
    if (was.level !== now.level || was.approvals_required !== now.approvals_required) {
      this.changedTotal++;
      this.keepChanged(row, was, now);
    }
    if (now.approvals_required > 0) {
      this.reviews.push({ id: row.id, start: row.created_at, end: row.decided_at ?? this.opts.to, eligible: this.eligibleOf(now.team, now.author), authorSlackId: now.author.slack_id ?? null });
    }
    if (this.opts.actualFrom === 'sign_offs') for (const u of row.signers ?? []) this.countActual(u, row);
    else if (row.assigned_to) this.countActual(row.assigned_to, row);
  }

  private countActual(user: string, row: SimulationRow): void {
    const at = row.created_at.getTime();
    const a = this.actual.get(user);
    if (!a) this.actual.set(user, { n: 1, team: row.team, at });
    else {
      a.n++;
      // Someone no candidate team lists is shown under the team of their earliest change.
      if (at < a.at) {
        a.team = row.team;
        a.at = at;
      }
    }
  }

  report(): SimulationReport {
    const { candidate, from, to } = this.opts;
    const days = workingDays(from, to, candidate.escalation.timezone);
    const leastLoaded = candidate.review.assignment === 'least_loaded';
    const reviews = this.reviews.sort((a, b) => a.start.getTime() - b.start.getTime() || a.id - b.id);
    const expected = leastLoaded ? replayLeastLoaded(reviews, candidate) : splitEqually(reviews, new Set(candidate.review.away));
    return {
      window: { from: from.toISOString(), to: to.toISOString(), working_days: round2(days) },
      changes: this.count,
      current: this.current,
      candidate: this.candidate,
      changed_total: this.changedTotal,
      changed: this.changed.map(({ at: _at, id: _id, ...c }) => c),
      assignment: leastLoaded ? 'least_loaded' : 'none',
      actual_from: this.opts.actualFrom,
      load: this.loadTable(expected, days),
    };
  }

  /** Keeps the oldest MAX_CHANGED (by created_at, then id) whatever order changes arrive in. */
  private keepChanged(row: SimulationRow, was: Redecision, now: Redecision): void {
    const list = this.changed;
    const at = row.created_at.getTime();
    const last = list[list.length - 1];
    // Changes mostly arrive oldest first: once the list is full, a younger one is dropped at once.
    if (list.length === MAX_CHANGED && (at > last.at || (at === last.at && row.id > last.id))) return;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at < list[mid].at || (at === list[mid].at && row.id < list[mid].id)) hi = mid;
      else lo = mid + 1;
    }
    list.splice(lo, 0, { key: changeKey(row.id), title: row.title, from: { level: was.level, approvals_required: was.approvals_required }, to: { level: now.level, approvals_required: now.approvals_required }, rules: now.rules, at, id: row.id });
    if (list.length > MAX_CHANGED) list.pop();
  }

  /** One row per senior of the candidate's teams (under the first team listing them), then anyone else with actual load. */
  private loadTable(expected: ReadonlyMap<string, number>, days: number): SeniorLoad[] {
    const teamOf = new Map<string, string>();
    for (const t of this.opts.candidate.teams) for (const u of t.seniors) if (!teamOf.has(u)) teamOf.set(u, t.name);
    for (const u of [...this.actual.keys()].filter((u) => !teamOf.has(u)).sort()) teamOf.set(u, this.actual.get(u)!.team);
    const perDay = (n: number) => (days > 0 ? round2(n / days) : null);
    return [...teamOf].map(([senior, team]) => {
      const e = expected.get(senior) ?? 0;
      const a = this.actual.get(senior)?.n ?? 0;
      return { senior, team, expected_per_day: perDay(e), actual_per_day: perDay(a), expected: round2(e), actual: a };
    });
  }
}

/** The report over a list of changes (see {@link PolicySimulation}). */
export function simulationReport(input: SimulationOptions & { rows: Iterable<SimulationRow> }): SimulationReport {
  const sim = new PolicySimulation(input);
  for (const row of input.rows) sim.add(row);
  return sim.report();
}

type BaseFacts = Omit<ChangeFacts, 'author' | 'blast_radius'>;
const NONE: string[] = [];
type Decide = (row: SimulationRow, base: BaseFacts) => Redecision;

/** The facts that do not depend on the config. */
function baseFacts(row: SimulationRow): BaseFacts {
  return {
    services: row.services,
    environment: row.environment,
    ai: { assisted: row.ai_assisted, share: row.ai_share, tool: null, reasons: NONE },
    diff: row.diff,
    infra: row.infra,
    labels: row.labels,
  };
}

/** Conditions checked first: cheap ones before the globs, so a change that fails them never reaches `paths_match`. */
const CONDITION_COST: Record<keyof RuleConditions, number> = { ai_assisted: 0, environment: 0, author_level: 0, services: 1, lines_changed_at_least: 1, ai_share_at_least: 1, infra_destroys_at_least: 1, blast_radius_at_least: 1, paths_match: 2 };

/**
 * Each distinct rule condition of the configs (by key and value) is checked at most once per change,
 * with `matchRule` on a one-condition rule, so the checks are the policy's own. A condition on the
 * author's level or the blast radius is checked again only when that fact differs between configs.
 */
class ConditionMemo {
  private readonly ids = new Map<string, number>();
  private readonly rules: Rule[] = [];
  /** What else a condition's answer depends on: 0 nothing but the stored facts, 1 the author's level, 2 the blast radius. */
  private readonly dependsOn: number[] = [];
  private readonly checkedFor: number[] = [];
  private readonly checkedFact: unknown[] = [];
  private readonly answer: boolean[] = [];
  private change = 0;

  /** The ids of a rule's conditions, cheapest first. */
  compile(rule: Rule): number[] {
    const keys = (Object.keys(rule.when) as (keyof RuleConditions)[]).filter((k) => rule.when[k] !== undefined).sort((a, b) => CONDITION_COST[a] - CONDITION_COST[b]);
    return keys.map((key) => {
      const text = `${key}\u0000${JSON.stringify(rule.when[key])}`;
      let id = this.ids.get(text);
      if (id === undefined) {
        id = this.rules.length;
        this.ids.set(text, id);
        // The rule's own value (the same array), so the compiled glob matcher is shared with live intake.
        this.rules.push({ name: rule.name, description: rule.description, level: rule.level, when: { [key]: rule.when[key] } });
        this.dependsOn.push(key === 'author_level' ? 1 : key === 'blast_radius_at_least' ? 2 : 0);
        this.checkedFor.push(0);
        this.checkedFact.push(null);
        this.answer.push(false);
      }
      return id;
    });
  }

  nextChange(): void {
    this.change++;
  }

  holds(id: number, facts: ChangeFacts): boolean {
    const dep = this.dependsOn[id];
    const fact = dep === 0 ? null : dep === 1 ? facts.author.level : (facts.blast_radius ?? facts.services).length;
    if (this.checkedFor[id] !== this.change || this.checkedFact[id] !== fact) {
      this.checkedFor[id] = this.change;
      this.checkedFact[id] = fact;
      this.answer[id] = matchRule(this.rules[id], facts) !== null;
    }
    return this.answer[id];
  }
}

/** Decides a change under one config: like `evaluatePolicy`, the highest level among matching rules, most severe first. */
function deciderFor(config: SimulationConfig, conditions: ConditionMemo): Decide {
  const rules = config.policy.rules.map((rule) => ({ rule, conditions: conditions.compile(rule), rank: RISK_LEVELS.indexOf(rule.level) }));
  const radii = new Map<string, string[]>();
  const authors = authorResolver(config);
  return (row, base) => {
    const servicesKey = row.services.length === 1 ? row.services[0] : row.services.join('\u0000');
    let radius = radii.get(servicesKey);
    if (!radius) radii.set(servicesKey, (radius = config.resolved.graph.blastRadius(row.services)));
    const author = authors(row.author);
    // Spelled out: an object spread here costs several microseconds a change.
    const facts: ChangeFacts = { services: base.services, environment: base.environment, author, ai: base.ai, diff: base.diff, infra: base.infra, labels: base.labels, blast_radius: radius };
    let level: RiskLevel = 'low';
    const matched: (typeof rules)[number][] = [];
    for (const r of rules) {
      let all = true;
      for (const id of r.conditions) {
        if (!conditions.holds(id, facts)) {
          all = false;
          break;
        }
      }
      if (!all) continue;
      level = maxLevel(level, r.rule.level);
      matched.push(r);
    }
    if (matched.length > 1) matched.sort((x, y) => y.rank - x.rank);
    return { level, approvals_required: config.policy.approvals[level], team: config.resolved.teamOf(row.services[0]) ?? row.team, author, rules: matched.map((r) => r.rule.name) };
  };
}

/** Authors re-resolved once each: by the stored object (the repository shares them), else by their fields. */
function authorResolver(config: SimulationConfig): (stored: ResolvedAuthor) => ResolvedAuthor {
  const byObject = new WeakMap<ResolvedAuthor, ResolvedAuthor>();
  const byFields = new Map<string, ResolvedAuthor>();
  return (stored) => {
    let author = byObject.get(stored);
    if (author) return author;
    const key = [stored.slack_id, stored.github, stored.email, stored.name, stored.level, stored.bot].join('\u0000');
    author = byFields.get(key);
    if (!author) byFields.set(key, (author = reresolve(config, stored)));
    byObject.set(stored, author);
    return author;
  };
}

function reresolve(config: SimulationConfig, stored: ResolvedAuthor): ResolvedAuthor {
  const r = resolveAuthor({ slack_id: stored.slack_id, github: stored.github, email: stored.email, name: stored.name }, config.engineers, config.ai_detection.bot_accounts);
  if (!r.ok || r.author.level === 'unknown') return stored;
  return { ...r.author, bot: stored.bot || r.author.bot };
}

function emptyTotals(teams: readonly { name: string }[]): PolicyTotals {
  return { by_level: { low: 0, medium: 0, high: 0, critical: 0 }, needing_sign_off: 0, by_team: Object.fromEntries(teams.map((t) => [t.name, { needing_sign_off: 0 }])) };
}

function tally(totals: PolicyTotals, d: Redecision): void {
  totals.by_level[d.level]++;
  if (d.approvals_required === 0) return;
  totals.needing_sign_off++;
  (totals.by_team[d.team] ??= { needing_sign_off: 0 }).needing_sign_off++;
}

/** A team's seniors in the config minus the author (under any identity, as `chooseReviewer` does); cached per team and author. */
function eligibility(config: SimulationConfig): (team: string, author: ResolvedAuthor) => string[] {
  const seniors = new Map(config.teams.map((t) => [t.name, t.seniors]));
  // Re-resolved authors are shared objects (see authorResolver), so they key the cache as they are.
  const cache = new Map<string, WeakMap<ResolvedAuthor, string[]>>();
  return (team, author) => {
    let perAuthor = cache.get(team);
    if (!perAuthor) cache.set(team, (perAuthor = new WeakMap()));
    let eligible = perAuthor.get(author);
    if (!eligible) perAuthor.set(author, (eligible = (seniors.get(team) ?? []).filter((u) => authorship(u, author, config.engineers, null) !== 'author')));
    return eligible;
  };
}

/**
 * Working days in [from, to]: the Monday-to-Friday local days of `timeZone`, each counted by the share
 * of it inside the window (a whole day counts 1, even when daylight saving makes it 23 or 25 hours).
 */
export function workingDays(from: Date, to: Date, timeZone: string): number {
  let total = 0;
  for (let start = startOfLocalDay(from, timeZone).getTime(); start < to.getTime(); ) {
    // 36 h after a local midnight is always within the next local day (days last 23 to 25 h).
    const end = startOfLocalDay(new Date(start + 36 * HOUR_MS), timeZone).getTime();
    if (isWeekday(start + 12 * HOUR_MS, timeZone)) total += (Math.min(end, to.getTime()) - Math.max(start, from.getTime())) / (end - start);
    start = end;
  }
  return total;
}

const weekdayFormats = new Map<string, Intl.DateTimeFormat>();
function isWeekday(at: number, timeZone: string): boolean {
  let f = weekdayFormats.get(timeZone);
  if (!f) weekdayFormats.set(timeZone, (f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short' })));
  const day = f.format(at);
  return day !== 'Sat' && day !== 'Sun';
}

/** A review the simulation asks someone for: open from `start` until `end`. */
export interface SimulatedReview {
  start: Date;
  end: Date;
  /** The team's seniors who may review it (not the author). */
  eligible: readonly string[];
  authorSlackId: string | null;
}

/**
 * Live least-loaded assignment (`pickAssignee`) replayed over time: reviews in start order, each open
 * until its end; `today` counts the assignments of the local day in `escalation.timezone`, capped by
 * `review.max_assigned_per_day`; `review.away` is skipped. Returns the assignments per senior.
 */
export function replayLeastLoaded(reviews: readonly SimulatedReview[], config: Pick<SimulationConfig, 'review' | 'escalation'>): Map<string, number> {
  const tz = config.escalation.timezone;
  const away = new Set(config.review.away);
  // One load per senior, kept current: `today` is reset when the local day moves on.
  const loads = new Map<string, ReviewerLoad & { day: number; assigned: number }>();
  const ends = new MinHeap();
  let day = { start: Infinity, end: -Infinity };
  for (const r of reviews) {
    const t = r.start.getTime();
    for (let done = ends.popUntil(t); done; done = ends.popUntil(t)) loads.get(done)!.open--;
    // Local day boundaries are recomputed only when a review starts on another day.
    if (t < day.start || t >= day.end) {
      const start = startOfLocalDay(r.start, tz).getTime();
      day = { start, end: startOfLocalDay(new Date(start + 36 * HOUR_MS), tz).getTime() };
    }
    for (const u of r.eligible) {
      const l = loads.get(u);
      if (l && l.day !== day.start) {
        l.day = day.start;
        l.today = 0;
      }
    }
    const chosen = pickAssignee({ eligible: r.eligible, author: r.authorSlackId, away, loads, maxPerDay: config.review.max_assigned_per_day });
    if (!chosen) continue;
    let l = loads.get(chosen);
    if (!l) loads.set(chosen, (l = { user: chosen, open: 0, today: 0, lastAssignedAt: null, day: day.start, assigned: 0 }));
    l.open++;
    l.today++;
    l.lastAssignedAt = r.start;
    l.assigned++;
    ends.push(Math.max(t, r.end.getTime()), chosen);
  }
  return new Map([...loads].map(([u, l]) => [u, l.assigned]));
}

/** With `review.assignment: everyone` nobody is asked first: each request counts 1/n for each of its n eligible seniors. */
function splitEqually(reviews: readonly SimulatedReview[], away: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of reviews) {
    const people = r.eligible.filter((u) => u !== r.authorSlackId && !away.has(u));
    for (const u of people) out.set(u, (out.get(u) ?? 0) + 1 / people.length);
  }
  return out;
}

/** A binary min-heap of review ends: (time, senior). */
class MinHeap {
  private items: { at: number; user: string }[] = [];

  push(at: number, user: string): void {
    const a = this.items;
    a.push({ at, user });
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (a[p].at <= a[i].at) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }

  /** Removes and returns the senior of the earliest end at or before `t`, or null. */
  popUntil(t: number): string | null {
    const a = this.items;
    if (a.length === 0 || a[0].at > t) return null;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].at < a[m].at) m = l;
        if (r < a.length && a[r].at < a[m].at) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top.user;
  }
}
