/**
 * Repository paths as the policy compares them. A path is normalised before any glob sees it, so
 * `./src/auth/x.ts`, `src\auth\x.ts`, `src/./auth/x.ts` and `src//auth/x.ts` are all `src/auth/x.ts`.
 * Case is left as given (globs match case-insensitively instead), so the card shows the real name.
 */

export type NormalisedPath = { ok: true; path: string } | { ok: false; message: string };

/**
 * Normalises a repository-relative path: `\` becomes `/`, leading `./` and `/` are dropped, empty
 * and `.` segments are removed, and `..` is resolved. A path that climbs above the repository
 * root, or that is empty once normalised, is refused.
 */
export function normaliseRepoPath(raw: string): NormalisedPath {
  const out: string[] = [];
  for (const segment of raw.replaceAll('\\', '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) return { ok: false, message: 'climbs above the repository root (..)' };
      out.pop();
      continue;
    }
    out.push(segment);
  }
  if (out.length === 0) return { ok: false, message: 'names no file once normalised (empty, . or /)' };
  return { ok: true, path: out.join('/') };
}
