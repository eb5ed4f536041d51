/**
 * Property: however a path is spelled (the tricks that once dodged `paths_match`), the policy
 * decides the same. For any path P and any variant V of P built from `./`, `\`, `//`, `/./`,
 * `dir/..`, a leading `/` and case changes, intake normalises V and the policy's level and
 * required approvals equal those for P. Pure domain code: the intake schema and the policy.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../src/domain/policy.ts';
import { changeInputSchema } from '../../src/use-cases/change-input.ts';
import type { AiAssessment, ResolvedAuthor } from '../../src/domain/types.ts';
import { buildChangeInput } from '../factories/change.ts';
import { buildConfig } from '../factories/config.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const config = buildConfig();
const senior: ResolvedAuthor = { github: 'alice', level: 'senior', bot: false };
const ai: AiAssessment = { assisted: true, tool: 'Copilot', share: null, reasons: ['declared'] };

/** The policy outcome for a change touching `path`, after intake has validated and normalised it. */
function decide(path: string) {
  const parsed = changeInputSchema.safeParse(buildChangeInput({ diff: { files_changed: 1, additions: 1, deletions: 0, paths: [path] } }));
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.message}`);
  const outcome = evaluatePolicy(config.policy, { services: ['checkout'], environment: 'production', author: senior, ai, diff: parsed.data.diff!, infra: null, labels: [] });
  return { level: outcome.risk.level, approvals: outcome.approvals_required, rules: outcome.risk.reasons.map((r) => r.rule) };
}

const segment = fc.oneof(fc.constantFrom('src', 'auth', 'security', 'migrations', '.github', 'workflows', 'k8s', 'helm', 'lib', 'main.tf', 'x.ts', 'ci.yml'), fc.stringMatching(/^[a-z0-9_-]{1,8}(\.[a-z]{1,3})?$/));

type Trick = (segments: string[], rnd: () => number) => string;
const join = (s: string[], sep = '/') => s.join(sep);
const tricks: Trick[] = [
  (s) => `./${join(s)}`,
  (s) => `/${join(s)}`,
  (s) => join(s, '\\'),
  (s) => join(s, '//'),
  (s) => join(s, '/./'),
  (s, r) => join(s.map((x) => (r() < 0.5 ? x.toUpperCase() : x))),
  (s, r) => {
    const i = Math.floor(r() * s.length);
    return join([...s.slice(0, i), 'detour', '..', ...s.slice(i)]);
  },
  (s) => `./.${'/'}${join(s, '\\./')}`,
];

describe('path normalisation (property)', () => {
  it('when a path is spelled with any mix of tricks, then the policy decides exactly as for the plain path', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 0, max: tricks.length - 1 }), { minLength: 1, maxLength: 4 }), fc.double({ min: 0, max: 1, noNaN: true }), (segments, picks, seed) => {
        let x = seed;
        const rnd = () => (x = (x * 9301 + 49297) % 1) || 0.5;
        // Tricks compose: each one rewrites the segments of the previous variant.
        let variant = join(segments);
        for (const p of picks) variant = tricks[p](variant.split(/[\\/]+/).filter(Boolean), rnd);
        expect(decide(variant)).toEqual(decide(join(segments)));
      }),
      { numRuns: RUNS },
    );
  });
});
