import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';

/** A realistic change-intake body; override any field. */
export function buildChangeInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source: 'ci',
    external_id: `build-${randomUUID()}`,
    title: 'Retry payment capture on timeout',
    description: 'Adds a bounded retry around capture.',
    url: 'https://github.com/acme/shop/pull/42',
    service: 'checkout',
    environment: 'production',
    author: { github: 'jdoe' },
    ai_assisted: true,
    ai_tool: 'Copilot',
    diff: { files_changed: 3, additions: 120, deletions: 14, paths: ['src/payments/capture.ts', 'src/payments/retry.ts', 'test/capture.test.ts'] },
    ...overrides,
  };
}

/** One of the real terraform plans in test/fixtures (made by terraform 1.11). */
export function loadPlan(name: 'plan-destructive' | 'plan-initial-create' | 'plan-destroy-all'): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8'));
}
