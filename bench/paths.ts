// Policy matching on paths: 10,000 realistic paths against the default rules (goal ≤ 50 ms), and the
// hostile glob that once took 1.5 s per 20 long paths, now against 1,000 of them.
import { DEFAULT_POLICY_RULES, DEFAULT_APPROVALS } from '../src/config/defaults.ts';
import { evaluatePolicy, type Policy } from '../src/domain/policy.ts';
import type { ChangeFacts } from '../src/domain/types.ts';
import { median, type Figure } from './lib.ts';

const DIRS = ['src', 'lib', 'app', 'services/checkout', 'services/search', 'packages/ui', 'infra', 'db', 'test', 'docs', '.github/workflows', 'k8s', 'helm/charts'];
const LEAVES = ['index.ts', 'auth/session.ts', 'handlers/payment.go', 'migrations/0042_add_index.sql', 'main.tf', 'README.md', 'components/Button.tsx', 'ci.yml', 'values.yaml', 'security/tokens.py'];

/** `n` realistic repository paths, 2-6 segments deep. */
function realisticPaths(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${DIRS[i % DIRS.length]}/${i % 7 === 0 ? `module${i % 97}/` : ''}${LEAVES[(i * 7) % LEAVES.length]}`);
}

function facts(paths: string[]): ChangeFacts {
  return {
    services: ['checkout'],
    environment: 'production',
    author: { github: 'alice', level: 'senior', bot: false },
    ai: { assisted: true, tool: 'Copilot', share: null, reasons: ['declared'] },
    diff: { files_changed: paths.length, additions: 10, deletions: 1, paths },
    infra: null,
    labels: [],
  };
}

/** Median of `runs` timings of `fn`, in ms (after one warm-up run, which also compiles the globs). */
function time(fn: () => void, runs = 15): number {
  fn();
  return median(Array.from({ length: runs }, () => {
    const t = performance.now();
    fn();
    return performance.now() - t;
  }));
}

export async function benchPaths(): Promise<Figure[]> {
  const defaults: Policy = { rules: DEFAULT_POLICY_RULES, approvals: DEFAULT_APPROVALS };
  // Every path must be tried (none sensitive), so the figure is the worst case for the default globs.
  const ordinary = realisticPaths(10_000).filter((p) => !/auth|security|migrations|\.tf$|workflows|k8s|helm/.test(p));
  const plain = [...ordinary, ...ordinary].slice(0, 10_000);
  const defaultsMs = time(() => evaluatePolicy(defaults, facts(plain)));
  const hostile: Policy = { rules: [{ name: 'hostile', description: 'x', level: 'high', when: { paths_match: ['**/V*_*_*.sql', '**/a/**/a/**/a/**/x'] } }], approvals: DEFAULT_APPROVALS };
  const long = Array.from({ length: 1_000 }, (_, i) => (i % 2 ? `src/V${'_'.repeat(990)}${i}` : `${'a/'.repeat(495)}${i}`));
  const hostileMs = time(() => evaluatePolicy(hostile, facts(long)), 5);
  return [
    { figure: 'policy: 10,000 paths against the default rules', value: `${defaultsMs.toFixed(1)} ms`, baseline: '—', goal: '≤ 50 ms', met: defaultsMs <= 50 },
    { figure: 'policy: 1,000 ~1,000-char paths against `**/V*_*_*.sql` and `**/a/**/a/**/a/**/x`', value: `${hostileMs.toFixed(1)} ms`, baseline: 'picomatch: ~75,000 ms (1.5 s per 20 paths)', goal: '— (bounded, no blow-up)', met: null },
  ];
}
