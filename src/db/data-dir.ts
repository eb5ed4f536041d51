import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Files kept next to the embedded database's directory (`.data/pglite` → `.data/pglite.lock`,
 * `.data/pglite.api-token`): PGlite's own directory must hold nothing but its files.
 */

/** Raised when another process owns the data directory. */
export class DataDirBusyError extends Error {}

const heldHere = new Set<string>();

/** True when a process with this pid exists (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock on an embedded data directory before it is opened: two processes on one PGlite
 * directory corrupt it. A lock left by a process that is gone is taken over. Returns a release function.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = `${dataDir}.lock`;
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldHere.add(file);
      return () => {
        heldHere.delete(file);
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      const ours = pid === process.pid && heldHere.has(file);
      if (Number.isInteger(pid) && pid > 0 && (ours || (pid !== process.pid && alive(pid)))) {
        throw new DataDirBusyError(`Countersign is already running on this data directory (pid ${pid}); stop it or set COUNTERSIGN_DATA_DIR`);
      }
      // A stale lock (its process is gone): remove it and try once more.
      unlinkSync(file);
    }
  }
  throw new DataDirBusyError(`Countersign could not lock ${file}; remove it if no Countersign is running`);
}

/**
 * The API token generated for an embedded install, kept next to its data so a curl line or a CLI
 * set up earlier keeps working after a restart. Created on first use (mode 600).
 */
export function persistentToken(dataDir: string): { token: string; file: string } {
  const file = `${dataDir}.api-token`;
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{16,}$/.test(token)) return { token, file };
  }
  mkdirSync(dirname(file), { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, file };
}
