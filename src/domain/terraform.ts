import type { DestroyedResource, InfraSummary } from './types.ts';

/** How many destroyed addresses a summary keeps (the count is always exact). */
export const MAX_DESTROYED_LISTED = 50;

export type PlanAnalysis = { ok: true; summary: InfraSummary } | { ok: false; path: string; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Summarises the JSON that `terraform show -json PLAN` prints: creates, updates and every resource
 * the plan destroys (plain deletes and both replace orders). `no-op`, `read` and `forget` destroy nothing.
 */
export function analyzeTerraformPlan(plan: unknown): PlanAnalysis {
  if (!isObject(plan)) return { ok: false, path: '', message: 'expected the JSON object printed by `terraform show -json PLAN`' };
  const version = plan.format_version;
  if (typeof version !== 'string' || !/^\d+\.\d+/.test(version)) {
    return { ok: false, path: 'format_version', message: 'expected a format_version such as "1.2"' };
  }
  if (version.split('.')[0] !== '1') {
    return { ok: false, path: 'format_version', message: `unsupported plan format_version ${version}: only 1.x is understood` };
  }
  const changes = plan.resource_changes ?? [];
  if (!Array.isArray(changes)) return { ok: false, path: 'resource_changes', message: 'expected an array' };

  const summary: InfraSummary = { format_version: version, creates: 0, updates: 0, deletes: 0, replaces: 0, destroys: 0, destroyed: [] };
  for (let i = 0; i < changes.length; i++) {
    const rc = changes[i];
    const actions = isObject(rc) && isObject(rc.change) ? rc.change.actions : undefined;
    if (!isObject(rc) || typeof rc.address !== 'string' || !Array.isArray(actions) || !actions.every((a) => typeof a === 'string')) {
      return { ok: false, path: `resource_changes[${i}]`, message: 'expected { address, change: { actions: [...] } }' };
    }
    const acts = actions as string[];
    const destroys = acts.includes('delete');
    const creates = acts.includes('create');
    if (destroys && creates) summary.replaces++;
    else if (destroys) summary.deletes++;
    else if (creates) summary.creates++;
    else if (acts.includes('update')) summary.updates++;
    if (destroys) {
      summary.destroys++;
      if (summary.destroyed.length < MAX_DESTROYED_LISTED) {
        const entry: DestroyedResource = {
          address: rc.address,
          action: creates ? 'replace' : 'delete',
          reason: typeof rc.action_reason === 'string' ? rc.action_reason : null,
        };
        summary.destroyed.push(entry);
      }
    }
  }
  return { ok: true, summary };
}

/**
 * The destruction in words, naming the first few addresses:
 * "replaces 5 resources (a, b, c, …)" or "destroys 2 resources: deletes 1, replaces 1 (a, b)".
 */
export function describeDestruction(infra: InfraSummary, listed = 3): string {
  const plural = (n: number) => (n === 1 ? 'resource' : 'resources');
  const names = infra.destroyed.slice(0, listed).map((d) => d.address);
  const list = `(${names.join(', ')}${infra.destroys > names.length ? ', …' : ''})`;
  if (infra.deletes && infra.replaces) return `destroys ${infra.destroys} resources: deletes ${infra.deletes}, replaces ${infra.replaces} ${list}`;
  if (infra.replaces) return `replaces ${infra.replaces} ${plural(infra.replaces)} ${list}`;
  return `deletes ${infra.deletes} ${plural(infra.deletes)} ${list}`;
}
