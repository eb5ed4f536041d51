import { compileGlobs } from './glob.ts';
import type { AiAssessment, DiffStats, InfraSummary } from './types.ts';

export interface AreaPattern {
  name: string;
  /** Globs; a path belongs to the first area whose globs match it. */
  paths: string[];
  /** Higher is riskier: areas are shown riskiest first. */
  risk: number;
}

/** Default areas (configurable under `review.areas`), riskiest first. */
export const DEFAULT_AREAS: AreaPattern[] = [
  { name: 'infrastructure', paths: ['**/*.tf', '**/*.tfvars', 'k8s/**', '**/k8s/**', 'helm/**', '**/helm/**', '**/Dockerfile', 'terraform/**'], risk: 60 },
  { name: 'database migrations', paths: ['**/migrations/**', '**/migrate/**', 'db/**/*.sql', 'drizzle/**', '**/*.migration.*'], risk: 55 },
  { name: 'auth & security', paths: ['**/auth/**', '**/security/**', '**/crypto/**', '**/secrets/**', '**/permissions/**', '**/*auth*.*', '**/*token*.*', '**/*password*.*'], risk: 50 },
  { name: 'CI/CD pipelines', paths: ['.github/workflows/**', '.gitlab-ci.yml', '.circleci/**', 'Jenkinsfile', '**/buildkite/**', '.ci/**'], risk: 40 },
  { name: 'tests', paths: ['test/**', 'tests/**', '**/__tests__/**', '**/*.test.*', '**/*.spec.*', '**/*_test.*', '**/test_*.*'], risk: 5 },
  { name: 'docs', paths: ['docs/**', '**/*.md', '**/*.rst', '**/*.txt', 'LICENSE*'], risk: 1 },
];
const OTHER = 'code';

export interface ReviewBrief {
  /** Changed files per area, riskiest area first. */
  areas: { name: string; count: number; examples: string[] }[];
  /** One-line flags for the reviewer. */
  flags: string[];
}

const compiled = new WeakMap<AreaPattern[], { area: AreaPattern; match: (p: string) => boolean }[]>();
function matchers(areas: AreaPattern[]) {
  let m = compiled.get(areas);
  if (!m) compiled.set(areas, (m = areas.map((area) => ({ area, match: compileGlobs(area.paths) }))));
  return m;
}

/** Which area a path belongs to (the first matching area, else "code"). */
export function areaOf(path: string, areas: AreaPattern[] = DEFAULT_AREAS): string {
  return matchers(areas).find((m) => m.match(path))?.area.name ?? OTHER;
}

/**
 * The review brief, from data the change already carries: changed files grouped by area
 * (riskiest first) and one-line flags ("No tests changed", "Touches auth", …).
 */
export function buildReviewBrief(input: { diff: DiffStats | null; ai: AiAssessment; infra: InfraSummary | null; deletedPaths?: string[] }, areas: AreaPattern[] = DEFAULT_AREAS): ReviewBrief {
  const paths = input.diff?.paths ?? [];
  const groups = new Map<string, string[]>();
  for (const p of paths) {
    const a = areaOf(p, areas);
    groups.set(a, [...(groups.get(a) ?? []), p]);
  }
  const riskOf = (name: string) => areas.find((a) => a.name === name)?.risk ?? 10;
  const ordered = [...groups]
    .map(([name, files]) => ({ name, count: files.length, examples: files.slice(0, 3) }))
    .sort((a, b) => riskOf(b.name) - riskOf(a.name) || b.count - a.count);

  const flags: string[] = [];
  const has = (name: string) => groups.has(name);
  const codeChanged = [...groups.keys()].some((a) => a !== 'tests' && a !== 'docs');
  if (paths.length > 0 && codeChanged && !has('tests')) flags.push('No tests changed');
  if (has('auth & security')) flags.push('Touches auth');
  const migrationDeleted = (input.deletedPaths ?? []).some((p) => areaOf(p, areas) === 'database migrations');
  if (migrationDeleted) flags.push('Deletes a migration');
  if (has('CI/CD pipelines')) flags.push('Pipeline change');
  if (input.ai.assisted && input.ai.share !== null) flags.push(`${Math.round(input.ai.share * 100)}% AI-generated`);
  if (input.infra && input.infra.destroys > 0) {
    const names = input.infra.destroyed.slice(0, 3).map((d) => d.address);
    flags.push(`Destroys ${input.infra.destroys} resource${input.infra.destroys === 1 ? '' : 's'}: ${names.join(', ')}${input.infra.destroys > names.length ? `, +${input.infra.destroys - names.length} more` : ''}`);
  }
  return { areas: ordered, flags };
}

/** "checkout-db → payments-api → checkout, +4 more" for a blast radius. */
export function describeBlastRadius(services: readonly string[], shown = 3): string {
  const head = services.slice(0, shown).join(' → ');
  return services.length > shown ? `${head}, +${services.length - shown} more` : head;
}
