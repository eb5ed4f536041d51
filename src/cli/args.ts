import { parseArgs } from 'node:util';

/** Exit codes (README, "CLI for CI"). */
export const EXIT = {
  /** Registered (submit), approved (wait), chain intact (audit verify). */
  ok: 0,
  /** Rejected, expired or cancelled (wait); chain broken (audit verify). */
  failed: 1,
  /** wait ran out of time. */
  timeout: 2,
  /** Approved, but for a different commit or plan (wait). */
  stale: 3,
  /** Usage error, connection error, or a request the server refused. */
  usage: 4,
} as const;

/** Wrong arguments or settings: exit 4 with the message (and, for argument errors, the command's usage). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly showUsage = false,
  ) {
    super(message);
  }
}

/** Where the CLI writes and what it reads from its process; tests hand in their own. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  cwd: string;
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** `node:util` parseArgs, strict, with its errors turned into usage errors. */
export function parseCommandArgs<O extends Options>(args: string[], options: O, allowPositionals: boolean) {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options } as O & { help: { type: 'boolean'; short: 'h' } }, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument starting with a '-'.*$/s, ''), true);
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `15s`, `2m`, `2h`, `1d`; a bare number is seconds. */
export function parseDurationArg(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--${option} ${JSON.stringify(text)}: expected a duration such as 500ms, 15s, 10m or 2h`, true);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']);
}
