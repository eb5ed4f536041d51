/**
 * Glob matching for `paths_match` and review areas, in time proportional to glob length × path
 * length. Regex-based matchers (picomatch) backtrack: `**\/V*_*_*.sql` against long paths took
 * seconds, and a few `**` segments against a deep path took minutes, so one config line could
 * stall the event loop on every intake. This matcher works segment by segment with dynamic
 * programming instead, and never backtracks more than one star.
 *
 * Syntax: `*` (any characters within a segment, dotfiles included), `?` (one character),
 * `[abc]`, `[a-z]`, `[!x]` / `[^x]` (one character of a set), `**` as a whole segment (any number of
 * segments, zero included), `{a,b}` alternatives (nestable), and `\` to escape. Matching is
 * case-insensitive. Paths are expected normalised (see paths.ts).
 */

export const GLOB_LIMITS = { length: 200, wildcards: 12, alternatives: 32 } as const;

type Token = { kind: 'lit'; ch: string } | { kind: 'any' } | { kind: 'star' } | { kind: 'set'; negated: boolean; ranges: [string, string][] };
type Segment = { kind: 'globstar' } | { kind: 'tokens'; tokens: Token[] };

export type GlobCheck = { ok: true } | { ok: false; message: string };

/** Why a glob cannot be used (too long, too many wildcards or alternatives, unsupported syntax), or ok. */
export function checkGlob(glob: string): GlobCheck {
  if (glob.length > GLOB_LIMITS.length) return { ok: false, message: `is ${glob.length} characters; a glob may have at most ${GLOB_LIMITS.length}` };
  if (/[+@!?*]\(/.test(glob)) return { ok: false, message: 'uses an extglob such as +(…), @(…) or !(…), which is not supported; use {a,b} alternatives' };
  if (glob.startsWith('!')) return { ok: false, message: 'starts with "!": negated globs are not supported; write the paths that should match' };
  if (glob.includes('[[:')) return { ok: false, message: 'uses a POSIX class like [[:alpha:]], which is not supported; use a range like [a-z]' };
  const wildcards = (glob.replace(/\\./g, '').replace(/\*\*/g, '*').match(/[*?[]/g) ?? []).length;
  if (wildcards > GLOB_LIMITS.wildcards) {
    return { ok: false, message: `has ${wildcards} wildcards; at most ${GLOB_LIMITS.wildcards} keep matching fast on long paths` };
  }
  try {
    const alternatives = expandBraces(glob);
    for (const alt of alternatives) parseGlob(alt);
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
  return { ok: true };
}

/** A matcher for any of `globs` (case-insensitive); throws on a glob `checkGlob` refuses. */
export function compileGlobs(globs: readonly string[]): (path: string) => boolean {
  const compiled: Compiled[] = [];
  for (const glob of globs) {
    const check = checkGlob(glob);
    if (!check.ok) throw new Error(`glob ${JSON.stringify(glob)} ${check.message}`);
    for (const alt of expandBraces(glob)) compiled.push(withAnchors(parseGlob(alt)));
  }
  return (path: string) => {
    const segments = path.toLowerCase().split('/').filter(Boolean);
    return compiled.some((g) => !quickReject(g, segments) && matchSegments(g.segments, segments));
  };
}

/** A parsed glob with what lets most paths be turned away before the full match. */
interface Compiled {
  segments: Segment[];
  /** The first and last segments when they are not `**`: they must match the path's first and last segment. */
  first: Token[] | null;
  last: Token[] | null;
  /** Segments without wildcards: the path must contain each of them as a segment. */
  literals: string[];
}

function withAnchors(segments: Segment[]): Compiled {
  const tokensOf = (s: Segment | undefined) => (s && s.kind === 'tokens' ? s.tokens : null);
  const literals = segments.flatMap((s) => (s.kind === 'tokens' && s.tokens.every((t) => t.kind === 'lit') ? [s.tokens.map((t) => (t as { ch: string }).ch).join('')] : []));
  return { segments, first: tokensOf(segments[0]), last: segments.length > 1 ? tokensOf(segments.at(-1)) : null, literals };
}

/** True when the path cannot match (cheap checks only); false means "run the full match". */
function quickReject(g: Compiled, path: string[]): boolean {
  if (path.length === 0) return g.segments.some((s) => s.kind === 'tokens');
  if (g.first && !matchSegment(g.first, path[0])) return true;
  if (g.last && !matchSegment(g.last, path[path.length - 1])) return true;
  return g.literals.some((l) => !path.includes(l));
}

/** `{a,b}c` → `ac`, `bc` (nested braces too); a brace without a comma is literal. */
function expandBraces(glob: string): string[] {
  const open = findBrace(glob);
  if (!open) return [glob];
  const { start, end, parts } = open;
  const out: string[] = [];
  for (const part of parts) {
    for (const rest of expandBraces(glob.slice(0, start) + part + glob.slice(end + 1))) {
      out.push(rest);
      if (out.length > GLOB_LIMITS.alternatives) throw new Error(`expands to more than ${GLOB_LIMITS.alternatives} alternatives`);
    }
  }
  return out;
}

/** The first top-level `{…,…}` group: its bounds and comma-separated parts. */
function findBrace(glob: string): { start: number; end: number; parts: string[] } | null {
  for (let i = 0; i < glob.length; i++) {
    if (glob[i] === '\\') {
      i++;
      continue;
    }
    if (glob[i] !== '{') continue;
    let depth = 0;
    const parts: string[] = [];
    let from = i + 1;
    for (let j = i; j < glob.length; j++) {
      const c = glob[j];
      if (c === '\\') {
        j++;
        continue;
      }
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        parts.push(glob.slice(from, j));
        if (parts.length > 1) return { start: i, end: j, parts };
        break;
      } else if (c === ',' && depth === 1) {
        parts.push(glob.slice(from, j));
        from = j + 1;
      }
    }
  }
  return null;
}

function parseGlob(glob: string): Segment[] {
  const lower = glob.toLowerCase().replace(/^(\.\/)+/, '');
  return lower
    .split('/')
    .filter(Boolean)
    .map((s): Segment => (s === '**' ? { kind: 'globstar' } : { kind: 'tokens', tokens: parseSegment(s) }));
}

function parseSegment(s: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) tokens.push({ kind: 'lit', ch: s[++i] });
    else if (c === '*') {
      // `a**b` inside a segment is just a star.
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'any' });
    else if (c === '[') {
      const close = s.indexOf(']', i + 2);
      if (close < 0) throw new Error(`has an unclosed "[" in ${JSON.stringify(s)}`);
      let body = s.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      const ranges: [string, string][] = [];
      for (let j = 0; j < body.length; j++) {
        if (body[j + 1] === '-' && j + 2 < body.length) {
          ranges.push([body[j], body[j + 2]]);
          j += 2;
        } else ranges.push([body[j], body[j]]);
      }
      tokens.push({ kind: 'set', negated, ranges });
      i = close;
    } else tokens.push({ kind: 'lit', ch: c });
  }
  return tokens;
}

function tokenMatches(t: Token, ch: string): boolean {
  switch (t.kind) {
    case 'lit':
      return t.ch === ch;
    case 'any':
      return true;
    case 'set':
      return t.ranges.some(([a, b]) => ch >= a && ch <= b) !== t.negated;
    case 'star':
      return true;
  }
}

/** One segment against one glob segment: the classic wildcard match that only ever revisits the last star (O(n·m)). */
function matchSegment(tokens: Token[], s: string): boolean {
  let t = 0;
  let i = 0;
  let starT = -1;
  let starI = 0;
  while (i < s.length) {
    const tok = tokens[t];
    if (tok && tok.kind === 'star') {
      starT = t++;
      starI = i;
    } else if (tok && tokenMatches(tok, s[i])) {
      t++;
      i++;
    } else if (starT >= 0) {
      t = starT + 1;
      i = ++starI;
    } else return false;
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}

/** Segments against glob segments, `**` spanning any number of them: a DP table of (glob segment, path segment). */
function matchSegments(glob: Segment[], path: string[]): boolean {
  const G = glob.length;
  const P = path.length;
  // next[p]: does glob[g+1..] match path[p..]? Filled from the end, one row per glob segment.
  let next = new Array<boolean>(P + 1).fill(false);
  next[P] = true;
  for (let g = G - 1; g >= 0; g--) {
    const row = new Array<boolean>(P + 1).fill(false);
    const seg = glob[g];
    for (let p = P; p >= 0; p--) {
      if (seg.kind === 'globstar') row[p] = next[p] || (p < P && row[p + 1]);
      else row[p] = p < P && next[p + 1] && matchSegment(seg.tokens, path[p]);
    }
    next = row;
  }
  return next[0];
}
