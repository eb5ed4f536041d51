import { EXIT, parseCommandArgs, UsageError, type Io } from './args.ts';
import { call, explain, serverFromEnv } from './client.ts';
import { AUDIT_HELP } from './help.ts';

interface VerifyBody {
  ok: boolean;
  checked: number;
  unsealed: number;
  oldest_unsealed_at?: string | null;
  head?: { id: number; hash: string } | null;
  first_broken?: { id: number; reason: string };
}

/** `countersign audit verify`: 0 when the chain is intact, 1 naming the first broken row, 4 on errors. */
export async function audit(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(AUDIT_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub !== 'verify') throw new UsageError(`unknown audit command ${JSON.stringify(sub)} (expected: audit verify)`, true);
  const { values: v } = parseCommandArgs(rest, { json: { type: 'boolean' } }, false);
  if (v.help) {
    io.out(AUDIT_HELP);
    return EXIT.ok;
  }
  const server = serverFromEnv(io.env);
  const res = await call(server, 'GET', '/api/audit/verify', undefined, 10 * 60_000);
  const body = res.body as VerifyBody | null;
  if ((res.status !== 200 && res.status !== 409) || typeof body?.ok !== 'boolean') {
    io.err(`countersign audit verify: the server answered ${res.status}: ${res.status === 401 ? 'check COUNTERSIGN_TOKEN' : explain(res)}\n`);
    return EXIT.usage;
  }
  if (v.json) io.out(`${JSON.stringify(body, null, 2)}\n`);
  const pending = body.unsealed > 0 ? `; ${body.unsealed} recent row${body.unsealed === 1 ? ' is' : 's are'} not sealed yet${body.oldest_unsealed_at ? ` (oldest ${body.oldest_unsealed_at})` : ''}` : '';
  if (body.ok) {
    if (!v.json) io.out(`audit chain intact: ${body.checked} rows checked${body.head ? `, head ${body.head.id} ${body.head.hash}` : ''}${pending}\n`);
    return EXIT.ok;
  }
  const b = body.first_broken;
  io.err(`audit chain BROKEN at row ${b?.id ?? '?'}: ${b?.reason ?? 'no reason given'} (${body.checked} rows checked${pending})\n`);
  return EXIT.failed;
}
