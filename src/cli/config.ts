import { isAbsolute, resolve } from 'node:path';
import { ConfigError, loadConfigFile } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { EXIT, parseCommandArgs, UsageError, type Io } from './args.ts';
import { CONFIG_HELP } from './help.ts';

/** The config file the server would read: the given path, else COUNTERSIGN_CONFIG, else ./countersign.yml. */
export function configPath(io: Io, given?: string): string {
  // The server treats an empty COUNTERSIGN_CONFIG as unset (src/config/env.ts).
  const path = given ?? (io.env.COUNTERSIGN_CONFIG || 'countersign.yml');
  // Relative paths stay as typed (so messages name them that way) unless the CLI runs elsewhere.
  return isAbsolute(path) || resolve(io.cwd) === process.cwd() ? path : resolve(io.cwd, path);
}

/** Loads a config file exactly as the server does at start (`loadConfigFile`); null after printing its problems. */
export function loadConfigOrReport(io: Io, path: string, command: string): Config | null {
  try {
    return loadConfigFile(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`countersign ${command}: ${err.message}\n`);
    return null;
  }
}

/** `countersign config check [PATH]`: 0 when the server would start with the file, 4 naming every bad key otherwise. */
export async function config(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(CONFIG_HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub !== 'check') throw new UsageError(`unknown config command ${JSON.stringify(sub)} (expected: config check)`, true);
  const { values, positionals } = parseCommandArgs(rest, {}, true);
  if (values.help) {
    io.out(CONFIG_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 1) throw new UsageError(`config check takes one file, got ${positionals.length}`, true);
  const path = configPath(io, positionals[0]);
  const loaded = loadConfigOrReport(io, path, 'config check');
  if (!loaded) return EXIT.usage;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  io.out(`${path} is valid: ${count(loaded.teams.length, 'team')}, ${count(loaded.services.length, 'service')}, ${count(loaded.engineers.length, 'engineer')}, ${count(loaded.policy.rules.length, 'policy rule')}\n`);
  return EXIT.ok;
}
