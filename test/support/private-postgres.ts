import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The machine's PostgreSQL binaries (Debian layout), or null when there are none. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const version = readdirSync(root).sort().at(-1);
  const bin = version && join(root, version, 'bin');
  return bin && existsSync(join(bin, 'pg_ctl')) ? bin : null;
}

/**
 * A throwaway PostgreSQL cluster on its own port, so a test can stop and restart it without
 * touching the server every other test uses. Runs as the `postgres` user when we are root.
 */
export function startPrivatePostgres(port: number): { url: string; stop(): void; start(): void; restart(): void; destroy(): void } {
  const bin = postgresBin();
  if (!bin) throw new Error('no PostgreSQL binaries found under /usr/lib/postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'countersign-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const asPostgres = (cmd: string, args: string[]) => {
    const full = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] as const : [join(bin, cmd), args] as const;
    execFileSync(full[0], [...full[1]], { stdio: 'pipe' });
  };
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const ctl = (action: string, extra: string[] = []) => asPostgres('pg_ctl', ['-D', data, '-w', '-l', join(dir, 'log'), '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, action, ...extra]);
  ctl('start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => ctl('stop', ['-m', 'fast']),
    start: () => ctl('start'),
    restart: () => ctl('restart', ['-m', 'fast']),
    destroy: () => {
      try {
        ctl('stop', ['-m', 'immediate']);
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
