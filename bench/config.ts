import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseConfig } from '../src/config/load.ts';
import type { Config } from '../src/config/schema.ts';

/** The shipped demo config (countersign.yml), which the benchmarks use. */
export function buildConfigFromFile(): Config {
  return parseConfig(parse(readFileSync(new URL('../countersign.yml', import.meta.url), 'utf8')));
}
