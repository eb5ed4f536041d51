import fc from 'fast-check';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { checkGlob, compileGlobs, GLOB_LIMITS } from '../../src/domain/glob.ts';
import { DEFAULT_SENSITIVE_PATHS } from '../../src/config/defaults.ts';
import { DEFAULT_AREAS } from '../../src/domain/review-brief.ts';
import { buildConfig } from '../factories/config.ts';

describe('checkGlob: globs refused at config load, with why', () => {
  it.each([
    ['x'.repeat(GLOB_LIMITS.length + 1), `is ${GLOB_LIMITS.length + 1} characters; a glob may have at most ${GLOB_LIMITS.length}`],
    ['**/V*_*_*_*_*_*_*_*_*_*_*_*_*.sql', 'has 14 wildcards; at most 12 keep matching fast on long paths'],
    ['src/+(a|b)/**', 'uses an extglob such as +(…), @(…) or !(…), which is not supported; use {a,b} alternatives'],
    ['!docs/**', 'starts with "!": negated globs are not supported; write the paths that should match'],
    ['src/[[:alpha:]]*', 'uses a POSIX class like [[:alpha:]], which is not supported; use a range like [a-z]'],
    ['src/[ab', 'has an unclosed "[" in "[ab"'],
    ['{a,b,c,d,e,f}/{a,b,c,d,e,f}/*', `expands to more than ${GLOB_LIMITS.alternatives} alternatives`],
  ])('when the glob is %j, then it is refused: %s', (glob, message) => {
    expect(checkGlob(glob)).toEqual({ ok: false, message });
  });

  it('when the built-in globs are checked, then every one is accepted', () => {
    for (const g of [...DEFAULT_SENSITIVE_PATHS, ...DEFAULT_AREAS.flatMap((a) => a.paths)]) expect(checkGlob(g)).toEqual({ ok: true });
  });

  it('when a config rule or review area holds a refused glob, then the config is refused naming the key path and why', () => {
    const rule = { name: 'slow', description: 'x', level: 'high', when: { paths_match: ['**/V*_*_*_*_*_*_*_*_*_*_*_*_*.sql'] } };
    expect(() => buildConfig({ policy: { rules: [rule] } })).toThrow(/policy\.rules\[0\]\.when\.paths_match\[0\]: glob "\*\*\/V\*_\*_\*.*has 14 wildcards/);
    expect(() => buildConfig({ review: { areas: [{ name: 'a', paths: ['+(x)'] }] } })).toThrow(/review\.areas\[0\]\.paths\[0\]: glob "\+\(x\)" uses an extglob/);
  });
});

describe('compileGlobs', () => {
  it('when paths differ only in case, then they match alike (case-insensitive)', () => {
    const m = compileGlobs(['**/auth/**', '.github/workflows/**']);
    for (const p of ['src/auth/x.ts', 'SRC/Auth/X.TS', '.GitHub/Workflows/ci.yml']) expect(m(p)).toBe(true);
    expect(m('src/authz/x.ts')).toBe(false);
  });

  it('when hostile globs meet long paths, then they still answer (no backtracking blow-up), correctly', () => {
    const stars = compileGlobs(['**/V*_*_*.sql']);
    expect(stars(`src/V${'_'.repeat(990)}x`)).toBe(false);
    expect(stars(`src/V${'_'.repeat(990)}.sql`)).toBe(true);
    const deep = compileGlobs(['**/a/**/a/**/a/**/x']);
    expect(deep('a/'.repeat(495) + 'y')).toBe(false);
    expect(deep('a/'.repeat(495) + 'x')).toBe(true);
  });

  it('when globs and paths are generated, then the answer is picomatch’s (dot: true, nocase: true), except that `x/**` always matches x itself', () => {
    const segment = fc.constantFrom('src', 'auth', 'Auth', 'a', 'b', '.github', 'workflows', 'x.ts', 'x.TF', 'main.tf', 'migrations', 'k8s', 'README.md', '.env', 'a.b.c');
    const globPart = fc.constantFrom('**', '*', '*.ts', '*.tf', 'auth', 'src', '?', 'a*', '*a*', '[a-c]*', '.github', 'workflows', '{a,b}', '{src,lib}', 'x.ts', '*.{ts,md}');
    fc.assert(
      fc.property(fc.array(globPart, { minLength: 1, maxLength: 4 }), fc.array(segment, { minLength: 1, maxLength: 5 }), (g, p) => {
        const glob = g.join('/');
        const path = p.join('/');
        const ours = compileGlobs([glob])(path);
        const theirs = picomatch(glob, { dot: true, nocase: true })(path);
        // picomatch lets `k8s/**` match `k8s` but not `a*/**` match `auth`; here `**` is always zero or more
        // segments, so the only difference is matching more (safer for sensitive paths), never less.
        if (ours !== theirs) {
          expect(ours).toBe(true);
          expect(glob.endsWith('/**') && compileGlobs([glob.slice(0, -3)])(path)).toBe(true);
        }
      }),
      { numRuns: 3_000 },
    );
  });
});
