/**
 * The service dependency graph from the `services` list of the config. Pure: built once from
 * config, answers distance questions by breadth-first search. Cycles are tolerated (each walk
 * keeps a visited set), and a service never counts as its own dependency or dependent: the
 * start of every walk is marked visited, so a self loop or a cycle back to the start adds nothing.
 */

export interface ServiceNode {
  name: string;
  depends_on: readonly string[];
}

export class ServiceGraph {
  /** service → the services it depends on directly. */
  private readonly forward = new Map<string, Set<string>>();
  /** service → the services that depend on it directly. */
  private readonly reverse = new Map<string, Set<string>>();

  constructor(services: readonly ServiceNode[]) {
    for (const s of services) {
      this.node(s.name);
      for (const dep of s.depends_on) {
        this.node(dep);
        this.forward.get(s.name)!.add(dep);
        this.reverse.get(dep)!.add(s.name);
      }
    }
  }

  /** True when the service is declared or named as a dependency. */
  has(service: string): boolean {
    return this.forward.has(service);
  }

  /** Every service `service` depends on, transitively, with its distance (direct dependency = 1). Empty for unknown services. */
  dependenciesOf(service: string): Map<string, number> {
    return walk(this.forward, [service]);
  }

  /** Every service that transitively depends on `service`, with its distance (direct dependent = 1). Empty for unknown services. */
  dependentsOf(service: string): Map<string, number> {
    return walk(this.reverse, [service]);
  }

  /**
   * The touched services (distance 0) plus every service that transitively depends on any of them,
   * each at its smallest distance, ordered by distance then name. Touched services are listed even
   * when the graph does not know them; duplicates appear once.
   */
  blastRadius(services: readonly string[]): string[] {
    const dist = walk(this.reverse, services);
    for (const s of services) dist.set(s, 0);
    return [...dist.entries()].sort((a, b) => a[1] - b[1] || cmp(a[0], b[0])).map(([name]) => name);
  }

  /**
   * 0 when `deployed` is one of the incident's services; otherwise the smallest number of
   * depends_on hops from any incident service to `deployed`; null when no incident service
   * depends on it, even transitively.
   */
  distanceFrom(incidentServices: readonly string[], deployed: string): number | null {
    return this.nearestDependent(incidentServices, deployed)?.distance ?? null;
  }

  /**
   * Like {@link distanceFrom}, but also names the incident service that is nearest to `deployed`
   * (ties broken by name): `deployed` itself at distance 0. Null when unrelated.
   */
  nearestDependent(incidentServices: readonly string[], deployed: string): { service: string; distance: number } | null {
    if (incidentServices.includes(deployed)) return { service: deployed, distance: 0 };
    const dependents = this.dependentsOf(deployed);
    let best: { service: string; distance: number } | null = null;
    for (const s of incidentServices) {
      const d = dependents.get(s);
      if (d === undefined) continue;
      if (!best || d < best.distance || (d === best.distance && cmp(s, best.service) < 0)) best = { service: s, distance: d };
    }
    return best;
  }

  private node(name: string): void {
    if (!this.forward.has(name)) this.forward.set(name, new Set());
    if (!this.reverse.has(name)) this.reverse.set(name, new Set());
  }
}

/** Multi-source BFS over `edges`; the sources themselves are excluded from the result. */
function walk(edges: ReadonlyMap<string, ReadonlySet<string>>, sources: readonly string[]): Map<string, number> {
  const visited = new Set<string>(sources);
  const out = new Map<string, number>();
  let frontier = sources.filter((s) => edges.has(s));
  for (let distance = 1; frontier.length > 0; distance++) {
    const next: string[] = [];
    for (const s of frontier) {
      for (const n of edges.get(s) ?? []) {
        if (visited.has(n)) continue;
        visited.add(n);
        out.set(n, distance);
        next.push(n);
      }
    }
    frontier = next;
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
