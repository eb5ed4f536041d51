import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';

export interface Preset {
  id: string;
  label: string;
  body: Record<string, unknown>;
}

const plan = () => JSON.parse(readFileSync(new URL('./presets/plan-destructive.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/**
 * Example changes for the sandbox's "Submit a change" form, drawn from the config's people and
 * services: an AI-assisted change by a junior, a destructive terraform plan, and a low-risk
 * change by a senior. Each call gets fresh external ids, so each submit is a new change.
 */
export function buildPresets(config: Config): Preset[] {
  const id = () => `sandbox-${randomBytes(4).toString('hex')}`;
  const junior = config.engineers.find((e) => e.level === 'junior') ?? config.engineers[0];
  const senior = config.engineers.find((e) => e.level === 'senior' || e.level === 'principal') ?? config.engineers[0];
  const author = (e: typeof junior) => (e ? { ...(e.slack && { slack_id: e.slack }), ...(e.github && { github: e.github }), ...(!e.slack && !e.github && e.email && { email: e.email }) } : { github: 'someone' });
  const firstService = config.services[0].name;
  const infraService = config.services.find((s) => /infra|platform|db/.test(s.name))?.name ?? firstService;
  return [
    {
      id: 'ai-junior',
      label: 'AI-assisted change by a junior',
      body: {
        source: 'sandbox',
        external_id: id(),
        title: 'Retry payment capture on gateway timeout',
        description: 'Wraps capture in a bounded retry. Written with an AI assistant.',
        url: 'https://github.com/acme/shop/pull/481',
        service: firstService,
        environment: 'production',
        author: author(junior),
        ai_assisted: true,
        ai_tool: 'Copilot',
        ai_share: 0.7,
        diff: { files_changed: 3, additions: 142, deletions: 18, paths: ['src/payments/capture.ts', 'src/payments/retry.ts', 'test/payments/capture.test.ts'] },
      },
    },
    {
      id: 'terraform-destroy',
      label: 'Destructive terraform plan (production)',
      body: {
        source: 'sandbox',
        external_id: id(),
        title: 'Replace the VPC and drop the old cache',
        service: infraService,
        environment: 'production',
        author: author(junior),
        commits: [{ sha: 'a1b2c3d4e5f6a7b8', message: 'Recreate network to fix subnet bug\n\nAssisted-by: Claude' }],
        terraform_plan: plan(),
      },
    },
    {
      id: 'senior-low-risk',
      label: 'Low-risk change by a senior',
      body: {
        source: 'sandbox',
        external_id: id(),
        title: 'Bump log retention to 30 days',
        service: firstService,
        environment: 'production',
        author: author(senior),
        ai_assisted: false,
        diff: { files_changed: 1, additions: 2, deletions: 2, paths: ['config/logging.yaml'] },
      },
    },
  ];
}
