import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { UsageError } from './args.ts';

/** What `--from-git` reads from the local checkout. */
export interface GitFacts {
  repoName: string;
  headSha: string;
  /** The base actually used (`origin/main`), or null when it was missing and the last commits were read instead. */
  base: string | null;
  commits: { sha: string; message: string }[];
  diff: { files_changed: number; additions: number; deletions: number; paths: string[] };
  /** Things the user should know (a missing base ref). */
  warnings: string[];
}

/** API limits (src/use-cases/change-input.ts). */
const MAX_COMMITS = 1_000;
const MAX_MESSAGE = 20_000;
const MAX_PATHS = 10_000;
const MAX_PATH = 1_000;
/** Commits read when the base ref is missing. */
const FALLBACK_COMMITS = 50;

function git(cwd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ENOENT') reject(new UsageError('--from-git needs git on the PATH'));
        else reject(Object.assign(new Error(`git ${args.join(' ')}: ${(stderr || err.message).trim()}`), { gitFailed: true }));
        return;
      }
      resolve(stdout);
    });
  });
}

async function tryGit(cwd: string, args: string[]): Promise<string | null> {
  try {
    return (await git(cwd, args)).trim();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    return null;
  }
}

/**
 * Reads the head SHA, the commit messages since `base` (for AI trailers) and the diff stats
 * against the merge base (`git diff base...HEAD`). When `base` does not resolve (a shallow
 * clone, a branch not fetched) the last 50 commits stand in for the range, with a warning.
 */
export async function readGitFacts(cwd: string, base: string): Promise<GitFacts> {
  const top = await tryGit(cwd, ['rev-parse', '--show-toplevel']);
  if (!top) throw new UsageError(`--from-git: ${cwd} is not inside a git repository`);
  const headSha = await tryGit(cwd, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  if (!headSha) throw new UsageError('--from-git: the repository has no commits yet');
  const warnings: string[] = [];

  let from: string | null = null;
  let range: string[];
  const baseSha = await tryGit(cwd, ['rev-parse', '--verify', '--quiet', `${base}^{commit}`]);
  const mergeBase = baseSha ? await tryGit(cwd, ['merge-base', baseSha, headSha]) : null;
  if (mergeBase) {
    from = mergeBase;
    range = [`${mergeBase}..${headSha}`];
  } else {
    warnings.push(
      baseSha
        ? `${base} shares no history with HEAD; reading the last ${FALLBACK_COMMITS} commits instead`
        : `base ref ${base} was not found (fetch it, e.g. actions/checkout with fetch-depth: 0); reading the last ${FALLBACK_COMMITS} commits instead`,
    );
    range = ['-n', String(FALLBACK_COMMITS), headSha];
  }

  // %x1f between SHA and message, -z (NUL) between commits: messages may hold anything else.
  const log = await git(cwd, ['log', '-z', `--format=%H%x1f%B`, ...(mergeBase ? ['-n', String(MAX_COMMITS)] : []), ...range]);
  const commits = log
    .split('\0')
    .filter((c) => c.includes('\x1f'))
    .map((c) => {
      const i = c.indexOf('\x1f');
      const message = c.slice(i + 1).trim();
      // Trailers are at the end of a message: keep the end when it is too long.
      return { sha: c.slice(0, i).trim(), message: message.length > MAX_MESSAGE ? message.slice(-MAX_MESSAGE) : message };
    });

  if (!from) {
    const oldest = commits[commits.length - 1]?.sha;
    from = (oldest && (await tryGit(cwd, ['rev-parse', '--verify', '--quiet', `${oldest}^`]))) || (await git(cwd, ['hash-object', '-t', 'tree', '/dev/null'])).trim();
  }
  const numstat = await git(cwd, ['diff', '--numstat', '-z', '--no-renames', from, headSha]);
  const diff = { files_changed: 0, additions: 0, deletions: 0, paths: [] as string[] };
  for (const rec of numstat.split('\0')) {
    const m = /^(\d+|-)\t(\d+|-)\t(.+)$/s.exec(rec);
    if (!m) continue;
    diff.files_changed++;
    if (m[1] !== '-') diff.additions += Number(m[1]);
    if (m[2] !== '-') diff.deletions += Number(m[2]);
    if (diff.paths.length < MAX_PATHS && m[3].length <= MAX_PATH) diff.paths.push(m[3]);
  }
  return { repoName: basename(top), headSha, base: mergeBase ? base : null, commits, diff, warnings };
}
