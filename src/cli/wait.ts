import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { planDigest } from '../domain/canonical.ts';
import { EXIT, parseCommandArgs, parseDurationArg, UsageError, type Io } from './args.ts';
import { call, ConnectionError, explain, serverFromEnv, type ApiResponse, type Server } from './client.ts';
import { WAIT_HELP } from './help.ts';

const options = {
  sha: { type: 'string' },
  'plan-sha256': { type: 'string' },
  plan: { type: 'string' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
} as const;

/** A line every this often while nothing changes, so a CI log shows the job is alive. */
const HEARTBEAT_MS = 5 * 60_000;

/**
 * `countersign wait KEY`: polls `GET /api/changes/KEY/gate` until the gate decides.
 * 0 approved (200), 1 rejected/expired/cancelled (403), 2 timed out, 3 approved for another
 * commit or plan (409), 4 usage or connection error (an unknown key included).
 */
export async function wait(args: string[], io: Io, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<number> {
  const { values: v, positionals } = parseCommandArgs(args, options, true);
  if (v.help) {
    io.out(WAIT_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'wait needs the change key, e.g. countersign wait CHG-12' : `wait takes one change key, got ${positionals.join(' ')}`, true);
  const key = positionals[0];
  const timeoutMs = parseDurationArg(v.timeout ?? '2h', 'timeout');
  const intervalMs = Math.max(100, parseDurationArg(v.interval ?? '15s', 'interval'));
  if (v.plan && v['plan-sha256']) throw new UsageError('give --plan or --plan-sha256, not both', true);
  const planSha = v.plan ? planDigest(readPlanFile(resolve(io.cwd, v.plan))) : v['plan-sha256'];
  const server = serverFromEnv(io.env);

  const query = new URLSearchParams();
  if (v.sha) query.set('sha', v.sha);
  if (planSha) query.set('plan_sha256', planSha);
  const path = `/api/changes/${encodeURIComponent(key)}/gate${query.toString() ? `?${query}` : ''}`;
  const pinned = [v.sha && `commit ${v.sha}`, planSha && `plan ${planSha}`].filter(Boolean).join(' and ');

  const started = Date.now();
  const deadline = started + timeoutMs;
  const stamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const progress = (text: string) => io.err(`[${stamp()}] ${text}\n`);
  let reachedOnce = false;
  let lastStatus: string | null = null;
  let lastLine = 0;
  progress(`waiting for ${key}${pinned ? ` (${pinned})` : ''} at ${server.url}, up to ${formatMs(timeoutMs)}, checking every ${formatMs(intervalMs)}`);

  for (;;) {
    let res: ApiResponse | null = null;
    try {
      res = await call(server, 'GET', path, undefined, Math.min(30_000, Math.max(1_000, deadline - Date.now())));
    } catch (err) {
      if (!(err instanceof ConnectionError)) throw err;
      // A wrong URL fails at once; once the server has answered, a blip (a restart) is waited out.
      if (!reachedOnce) {
        io.err(`countersign wait: ${err.message}\n`);
        return EXIT.usage;
      }
      progress(`${err.message}; retrying`);
    }
    if (res) {
      if (res.status !== 502 && res.status !== 503 && res.status !== 504) reachedOnce = true;
      const status = (res.body as { status?: string } | null)?.status;
      switch (res.status) {
        case 200:
          io.out(`${key} is ${status ?? 'approved'}: the gate is open${pinned ? ` for ${pinned}` : ''}\n`);
          return EXIT.ok;
        case 202:
          if (status !== lastStatus || Date.now() - lastLine >= HEARTBEAT_MS) {
            progress(`${key} is ${status ?? 'pending'}: waiting for sign-off (${formatMs(Date.now() - started)} so far)`);
            lastStatus = status ?? 'pending';
            lastLine = Date.now();
          }
          break;
        case 403:
          io.out(`${key} is ${status ?? 'not allowed'}: the gate is closed${await decisionNote(server, key)}\n`);
          return EXIT.failed;
        case 409:
          io.out(`stale approval: ${explain(res)}\n`);
          return EXIT.stale;
        case 404:
          io.err(`countersign wait: there is no change ${key} at ${server.url} (404)\n`);
          return EXIT.usage;
        case 401:
          io.err(`countersign wait: the server refused the token (401): check COUNTERSIGN_TOKEN\n`);
          return EXIT.usage;
        case 400:
          io.err(`countersign wait: the server refused the request (400): ${explain(res)}\n`);
          return EXIT.usage;
        default:
          if (res.status >= 500 || res.status === 429) progress(`the server answered ${res.status} (${explain(res)}); retrying`);
          else {
            io.err(`countersign wait: unexpected answer ${res.status} from ${server.url}: ${explain(res)}\n`);
            return EXIT.usage;
          }
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      io.out(`${key}: timed out after ${formatMs(timeoutMs)}; still ${lastStatus ?? 'undecided'}\n`);
      return EXIT.timeout;
    }
    await sleep(Math.min(intervalMs, left));
  }
}

/** The plan JSON for --plan (the digest is the server's: SHA-256 of its canonical JSON). */
function readPlanFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--plan ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** The parts of the change JSON the decision note reads; `*_name` are the person's name where the API gives one. */
interface DecidedChange {
  status?: string;
  author?: { slack_id?: string | null; name?: string | null };
  approvals?: { reviewer: string; reviewer_name?: string | null; decision: string; reason?: string; current?: boolean }[];
  status_history?: { to: string; by: string; by_name?: string | null; reason?: string }[];
}

/** ` (rejected by Alice Ng: "no tests")`, best effort; the raw id only when the API gives no name. */
async function decisionNote(server: Server, key: string): Promise<string> {
  try {
    const res = await call(server, 'GET', `/api/changes/${encodeURIComponent(key)}`, undefined, 10_000);
    const c = res.body as DecidedChange | null;
    const rejection = c?.status === 'rejected' ? c.approvals?.filter((a) => a.decision === 'rejected' && a.current !== false).at(-1) : undefined;
    const last = c?.status_history?.at(-1);
    const by = rejection?.reviewer ?? last?.by;
    const reason = rejection?.reason ?? last?.reason;
    if (!by) return '';
    const name = (rejection ? rejection.reviewer_name : last?.by_name) || (c?.author?.slack_id === by ? c.author.name : null) || by;
    return ` (${c?.status ?? last?.to} by ${name}${reason ? `: ${JSON.stringify(reason)}` : ''})`;
  } catch {
    return '';
  }
}

function formatMs(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m}m` : `${Math.round((m / 60) * 10) / 10}h`;
}
