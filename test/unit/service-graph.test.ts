import { describe, it, expect } from 'vitest';
import { ServiceGraph } from '../../src/domain/service-graph.ts';

/**
 * checkout → payments-api → checkout-db
 * checkout → catalog-api
 * search-api → catalog-api
 * admin → checkout, mobile-bff → checkout, storefront → mobile-bff
 */
const graph = new ServiceGraph([
  { name: 'checkout', depends_on: ['payments-api', 'catalog-api'] },
  { name: 'payments-api', depends_on: ['checkout-db'] },
  { name: 'checkout-db', depends_on: [] },
  { name: 'catalog-api', depends_on: [] },
  { name: 'search-api', depends_on: ['catalog-api'] },
  { name: 'admin', depends_on: ['checkout'] },
  { name: 'mobile-bff', depends_on: ['checkout'] },
  { name: 'storefront', depends_on: ['mobile-bff'] },
]);

const entries = (m: Map<string, number>) => Object.fromEntries([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));

describe('dependenciesOf / dependentsOf', () => {
  it('when a service has direct and transitive dependencies, then each is listed with its hop distance', () => {
    expect(entries(graph.dependenciesOf('checkout'))).toEqual({ 'payments-api': 1, 'catalog-api': 1, 'checkout-db': 2 });
  });

  it('when a service depends on nothing, then its dependencies are empty', () => {
    expect(graph.dependenciesOf('checkout-db').size).toBe(0);
  });

  it('when a service is depended on transitively, then every dependent is listed with its hop distance', () => {
    expect(entries(graph.dependentsOf('checkout-db'))).toEqual({
      'payments-api': 1,
      checkout: 2,
      admin: 3,
      'mobile-bff': 3,
      storefront: 4,
    });
  });

  it('when two services share a dependency, then both are its dependents at distance 1', () => {
    expect(entries(graph.dependentsOf('catalog-api'))).toEqual({
      checkout: 1,
      'search-api': 1,
      admin: 2,
      'mobile-bff': 2,
      storefront: 3,
    });
  });

  it('when a dependency is reachable by two paths, then the shorter distance is kept', () => {
    const g = new ServiceGraph([
      { name: 'a', depends_on: ['b', 'd'] },
      { name: 'b', depends_on: ['c'] },
      { name: 'c', depends_on: ['d'] },
      { name: 'd', depends_on: [] },
    ]);
    expect(entries(g.dependenciesOf('a'))).toEqual({ b: 1, c: 2, d: 1 });
    expect(entries(g.dependentsOf('d'))).toEqual({ a: 1, b: 2, c: 1 });
  });

  it('when the service is unknown, then both directions are empty', () => {
    expect(graph.dependenciesOf('nope').size).toBe(0);
    expect(graph.dependentsOf('nope').size).toBe(0);
  });
});

describe('cycles', () => {
  const cyclic = new ServiceGraph([
    { name: 'a', depends_on: ['b'] },
    { name: 'b', depends_on: ['c'] },
    { name: 'c', depends_on: ['a'] },
  ]);

  it('when services form a cycle a→b→c→a, then dependencies terminate with the other members and no self entry', () => {
    expect(entries(cyclic.dependenciesOf('a'))).toEqual({ b: 1, c: 2 });
    expect(entries(cyclic.dependentsOf('a'))).toEqual({ c: 1, b: 2 });
  });

  it('when services form a cycle, then the blast radius and distances terminate', () => {
    expect(cyclic.blastRadius(['b'])).toEqual(['b', 'a', 'c']);
    expect(cyclic.distanceFrom(['a'], 'c')).toBe(2);
    expect(cyclic.distanceFrom(['c'], 'a')).toBe(1);
  });

  it('when a service depends on itself, then it is neither its own dependency nor dependent', () => {
    const g = new ServiceGraph([
      { name: 'loop', depends_on: ['loop', 'db'] },
      { name: 'db', depends_on: [] },
    ]);
    expect(entries(g.dependenciesOf('loop'))).toEqual({ db: 1 });
    expect(g.dependentsOf('loop').size).toBe(0);
    expect(g.blastRadius(['loop'])).toEqual(['loop']);
    expect(g.distanceFrom(['loop'], 'loop')).toBe(0);
  });
});

describe('blastRadius', () => {
  it('when a deep dependency is touched, then it comes first followed by its dependents by distance then name', () => {
    expect(graph.blastRadius(['checkout-db'])).toEqual(['checkout-db', 'payments-api', 'checkout', 'admin', 'mobile-bff', 'storefront']);
  });

  it('when several services are touched, then each dependent appears once at its smallest distance', () => {
    expect(graph.blastRadius(['catalog-api', 'payments-api'])).toEqual([
      'catalog-api',
      'payments-api',
      'checkout',
      'search-api',
      'admin',
      'mobile-bff',
      'storefront',
    ]);
  });

  it('when one touched service depends on another touched service, then both stay at distance 0', () => {
    expect(graph.blastRadius(['mobile-bff', 'checkout'])).toEqual(['checkout', 'mobile-bff', 'admin', 'storefront']);
  });

  it('when the touched service is unknown, then only it is listed', () => {
    expect(graph.blastRadius(['ghost'])).toEqual(['ghost']);
  });

  it('when nothing is touched, then the blast radius is empty', () => {
    expect(graph.blastRadius([])).toEqual([]);
  });
});

describe('distanceFrom', () => {
  it('when the deployed service is an incident service, then the distance is 0', () => {
    expect(graph.distanceFrom(['checkout'], 'checkout')).toBe(0);
  });

  it('when an incident service depends on the deployed one, then the distance is the hop count', () => {
    expect(graph.distanceFrom(['checkout'], 'payments-api')).toBe(1);
    expect(graph.distanceFrom(['checkout'], 'checkout-db')).toBe(2);
    expect(graph.distanceFrom(['storefront'], 'checkout-db')).toBe(4);
  });

  it('when several incident services depend on it, then the smallest distance wins', () => {
    expect(graph.distanceFrom(['storefront', 'payments-api'], 'checkout-db')).toBe(1);
  });

  it('when the deployed service depends on the incident service (the wrong way), then it is unrelated', () => {
    expect(graph.distanceFrom(['checkout'], 'admin')).toBeNull();
  });

  it('when the deployed service is unrelated or unknown, then the distance is null', () => {
    expect(graph.distanceFrom(['checkout'], 'search-api')).toBeNull();
    expect(graph.distanceFrom(['checkout'], 'ghost')).toBeNull();
    expect(graph.distanceFrom([], 'checkout')).toBeNull();
  });

  it('when asked for the nearest incident service, then it names the one at the smallest distance', () => {
    expect(graph.nearestDependent(['storefront', 'checkout'], 'checkout-db')).toEqual({ service: 'checkout', distance: 2 });
    expect(graph.nearestDependent(['search-api', 'checkout'], 'catalog-api')).toEqual({ service: 'checkout', distance: 1 });
    expect(graph.nearestDependent(['checkout'], 'search-api')).toBeNull();
  });
});
