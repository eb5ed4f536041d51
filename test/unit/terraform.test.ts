import { describe, it, expect } from 'vitest';
import { analyzeTerraformPlan, describeDestruction, MAX_DESTROYED_LISTED } from '../../src/domain/terraform.ts';
import type { InfraSummary } from '../../src/domain/types.ts';
import { loadPlan } from '../factories/change.ts';

type ResourceChange = { address: string; change: { actions: string[] }; action_reason?: string };

/** Analyses and insists on success, so the test reads the summary directly. */
function summarise(plan: unknown): InfraSummary {
  const result = analyzeTerraformPlan(plan);
  if (!result.ok) throw new Error(`expected the plan to be understood, got ${result.path}: ${result.message}`);
  return result.summary;
}

/** A copy of a real plan whose every resource change has the given actions. */
function withAllActions(actions: string[]): Record<string, unknown> {
  const plan = structuredClone(loadPlan('plan-destroy-all'));
  for (const rc of plan.resource_changes as ResourceChange[]) {
    rc.change.actions = [...actions];
    delete rc.action_reason;
  }
  return plan;
}

/** A minimal 1.x plan made of the given resource changes. */
function planOf(resourceChanges: unknown[]): Record<string, unknown> {
  return { format_version: '1.2', resource_changes: resourceChanges };
}

describe('analyzeTerraformPlan on real terraform 1.11 plans', () => {
  it('when the plan deletes, updates, creates and replaces one resource each, then each is counted once and destroys is 2', () => {
    const s = summarise(loadPlan('plan-destructive'));
    expect(s).toMatchObject({ format_version: '1.2', creates: 1, updates: 1, deletes: 1, replaces: 1, destroys: 2 });
  });

  it('when the plan deletes one resource and replaces another, then both are listed in plan order with their action and action_reason', () => {
    const s = summarise(loadPlan('plan-destructive'));
    expect(s.destroyed).toEqual([
      { address: 'terraform_data.cache', action: 'delete', reason: 'delete_because_no_resource_config' },
      { address: 'terraform_data.vpc', action: 'replace', reason: 'replace_because_cannot_update' },
    ]);
  });

  it('when the plan only creates 7 resources, then it counts 7 creates and nothing destroyed', () => {
    const s = summarise(loadPlan('plan-initial-create'));
    expect(s).toEqual({ format_version: '1.2', creates: 7, updates: 0, deletes: 0, replaces: 0, destroys: 0, destroyed: [] });
  });

  it('when the plan destroys all 7 resources, then it counts 7 deletes and lists every address in plan order', () => {
    const s = summarise(loadPlan('plan-destroy-all'));
    expect(s).toMatchObject({ creates: 0, updates: 0, deletes: 7, replaces: 0, destroys: 7 });
    expect(s.destroyed.map((d) => d.address)).toEqual([
      'terraform_data.orders_db',
      'terraform_data.payments_api',
      'module.network.terraform_data.route_table',
      'module.network.terraform_data.subnet[0]',
      'module.network.terraform_data.subnet[1]',
      'module.network.terraform_data.subnet[2]',
      'module.network.terraform_data.subnet[3]',
    ]);
    expect(s.destroyed.every((d) => d.action === 'delete')).toBe(true);
  });

  it('when a destroyed resource carries no action_reason, then its reason is null', () => {
    const s = summarise(loadPlan('plan-destroy-all'));
    expect(s.destroyed.map((d) => d.reason)).toEqual(Array(7).fill(null));
  });

  it('when analysing a plan, then the input plan object is left unchanged', () => {
    const plan = loadPlan('plan-destructive');
    const before = structuredClone(plan);
    summarise(plan);
    expect(plan).toEqual(before);
  });
});

describe('analyzeTerraformPlan on actions that destroy nothing', () => {
  for (const action of ['no-op', 'read', 'forget']) {
    it(`when every resource change is ["${action}"], then nothing is counted as created, updated or destroyed`, () => {
      const s = summarise(withAllActions([action]));
      expect(s).toEqual({ format_version: '1.2', creates: 0, updates: 0, deletes: 0, replaces: 0, destroys: 0, destroyed: [] });
    });
  }

  it('when the plan has no resource_changes at all, then it is understood as an empty plan', () => {
    const s = summarise({ format_version: '1.2' });
    expect(s.destroys).toBe(0);
    expect(s.destroyed).toEqual([]);
  });

  it('when a resource change has an empty actions list, then it is accepted and counts as nothing', () => {
    const s = summarise(planOf([{ address: 'a.b', change: { actions: [] } }]));
    expect(s).toMatchObject({ creates: 0, updates: 0, deletes: 0, replaces: 0, destroys: 0 });
  });
});

describe('analyzeTerraformPlan on replacement orders', () => {
  it('when actions are ["create","delete"] (create before destroy), then it counts as a replace and destroys the resource', () => {
    const s = summarise(planOf([{ address: 'aws_instance.web', change: { actions: ['create', 'delete'] }, action_reason: 'replace_because_tainted' }]));
    expect(s).toMatchObject({ creates: 0, deletes: 0, replaces: 1, destroys: 1 });
    expect(s.destroyed).toEqual([{ address: 'aws_instance.web', action: 'replace', reason: 'replace_because_tainted' }]);
  });

  it('when actions are ["delete","create"] (destroy before create), then it counts as a replace, not as a create or delete', () => {
    const s = summarise(planOf([{ address: 'aws_instance.web', change: { actions: ['delete', 'create'] } }]));
    expect(s).toMatchObject({ creates: 0, deletes: 0, replaces: 1, destroys: 1 });
    expect(s.destroyed[0].action).toBe('replace');
  });

  it('when a copy of the destructive plan switches its replacement to create-before-destroy, then the counts are the same', () => {
    const plan = structuredClone(loadPlan('plan-destructive'));
    const vpc = (plan.resource_changes as ResourceChange[]).find((rc) => rc.address === 'terraform_data.vpc')!;
    vpc.change.actions = ['create', 'delete'];
    const s = summarise(plan);
    expect(s).toMatchObject({ creates: 1, updates: 1, deletes: 1, replaces: 1, destroys: 2 });
  });

  it('when more resources are destroyed than the listing cap, then the count stays exact and the list is capped', () => {
    const n = MAX_DESTROYED_LISTED + 5;
    const changes = Array.from({ length: n }, (_, i) => ({ address: `terraform_data.r[${i}]`, change: { actions: ['delete'] } }));
    const s = summarise(planOf(changes));
    expect(s.destroys).toBe(n);
    expect(s.deletes).toBe(n);
    expect(s.destroyed).toHaveLength(MAX_DESTROYED_LISTED);
    expect(s.destroyed[0].address).toBe('terraform_data.r[0]');
    expect(s.destroyed.at(-1)!.address).toBe(`terraform_data.r[${MAX_DESTROYED_LISTED - 1}]`);
  });
});

describe('analyzeTerraformPlan refusals', () => {
  it('when format_version is "2.0", then the plan is refused with path format_version and the version named', () => {
    const plan = { ...loadPlan('plan-destructive'), format_version: '2.0' };
    const result = analyzeTerraformPlan(plan);
    expect(result).toMatchObject({ ok: false, path: 'format_version' });
    expect(!result.ok && result.message).toContain('2.0');
  });

  it('when format_version is missing or not a version string, then the plan is refused with path format_version', () => {
    const { format_version: _, ...noVersion } = loadPlan('plan-destructive');
    expect(analyzeTerraformPlan(noVersion)).toMatchObject({ ok: false, path: 'format_version' });
    expect(analyzeTerraformPlan({ ...noVersion, format_version: 1.2 })).toMatchObject({ ok: false, path: 'format_version' });
    expect(analyzeTerraformPlan({ ...noVersion, format_version: 'latest' })).toMatchObject({ ok: false, path: 'format_version' });
  });

  for (const [label, input] of [
    ['null', null],
    ['a string', '{"format_version":"1.2"}'],
    ['a number', 42],
    ['an array', [{ format_version: '1.2' }]],
    ['undefined', undefined],
  ] as const) {
    it(`when the input is ${label}, then it is refused at the root path with a message about terraform show -json`, () => {
      const result = analyzeTerraformPlan(input);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.path).toBe('');
      expect(result.message).toContain('terraform show -json');
    });
  }

  it('when resource_changes is not an array, then it is refused with path resource_changes', () => {
    expect(analyzeTerraformPlan({ format_version: '1.2', resource_changes: { a: 1 } })).toMatchObject({ ok: false, path: 'resource_changes' });
  });

  it('when a resource change has no address, then it is refused with the index of that change', () => {
    const plan = structuredClone(loadPlan('plan-destructive'));
    delete (plan.resource_changes as Partial<ResourceChange>[])[2].address;
    const result = analyzeTerraformPlan(plan);
    expect(result).toMatchObject({ ok: false, path: 'resource_changes[2]' });
  });

  it('when a resource change has actions that are not an array of strings, then it is refused with the index of that change', () => {
    expect(analyzeTerraformPlan(planOf([{ address: 'a.ok', change: { actions: ['create'] } }, { address: 'a.bad', change: { actions: 'delete' } }]))).toMatchObject({
      ok: false,
      path: 'resource_changes[1]',
    });
    expect(analyzeTerraformPlan(planOf([{ address: 'a.bad', change: { actions: ['delete', 7] } }]))).toMatchObject({ ok: false, path: 'resource_changes[0]' });
    expect(analyzeTerraformPlan(planOf([{ address: 'a.bad', change: {} }]))).toMatchObject({ ok: false, path: 'resource_changes[0]' });
    expect(analyzeTerraformPlan(planOf([{ address: 'a.bad' }]))).toMatchObject({ ok: false, path: 'resource_changes[0]' });
  });

  it('when a resource change is not an object, then it is refused with its index', () => {
    expect(analyzeTerraformPlan(planOf(['terraform_data.x']))).toMatchObject({ ok: false, path: 'resource_changes[0]' });
  });
});

describe('describeDestruction', () => {
  it('when a plan deletes one and replaces one, then it says "destroys 2 resources: deletes 1, replaces 1" and names both', () => {
    expect(describeDestruction(summarise(loadPlan('plan-destructive')))).toBe(
      'destroys 2 resources: deletes 1, replaces 1 (terraform_data.cache, terraform_data.vpc)',
    );
  });

  it('when a plan deletes 7 resources, then it names the first three and marks the rest with an ellipsis', () => {
    expect(describeDestruction(summarise(loadPlan('plan-destroy-all')))).toBe(
      'deletes 7 resources (terraform_data.orders_db, terraform_data.payments_api, module.network.terraform_data.route_table, …)',
    );
  });

  it('when a different number of names is asked for, then that many are listed', () => {
    expect(describeDestruction(summarise(loadPlan('plan-destroy-all')), 1)).toBe('deletes 7 resources (terraform_data.orders_db, …)');
  });

  it('when a plan only replaces a single resource, then it says "replaces 1 resource" in the singular without an ellipsis', () => {
    const s = summarise(planOf([{ address: 'terraform_data.vpc', change: { actions: ['delete', 'create'] } }]));
    expect(describeDestruction(s)).toBe('replaces 1 resource (terraform_data.vpc)');
  });

  it('when a plan deletes a single resource, then it says "deletes 1 resource" in the singular', () => {
    const s = summarise(planOf([{ address: 'terraform_data.cache', change: { actions: ['delete'] } }]));
    expect(describeDestruction(s)).toBe('deletes 1 resource (terraform_data.cache)');
  });

  it('when a plan replaces several resources, then it uses the plural and lists them', () => {
    const s = summarise(planOf([
      { address: 'a.one', change: { actions: ['create', 'delete'] } },
      { address: 'a.two', change: { actions: ['delete', 'create'] } },
    ]));
    expect(describeDestruction(s)).toBe('replaces 2 resources (a.one, a.two)');
  });
});
