import { z } from 'zod';
import { fieldIssues } from './issues.ts';
import { ConfigError } from './load.ts';

/** Empty strings count as unset, so `FOO=` in a .env file means "use the default". */
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

const envSchema = z.object({
  PORT: z.preprocess((v) => (v === '' || v === undefined ? '3000' : v), z.string().regex(/^\d+$/, 'expected a port number').transform(Number).pipe(z.number().max(65535, 'expected a port number up to 65535'))).describe('HTTP port'),
  HOST: optionalString.describe('bind address (default 0.0.0.0; 127.0.0.1 in sandbox mode)'),
  DATABASE_URL: optionalString.describe('postgres://… for real Postgres; unset for embedded PGlite in .data/; memory:// for in-memory PGlite'),
  COUNTERSIGN_DATA_DIR: optionalString.describe('where embedded PGlite keeps its files (default .data/pglite)'),
  COUNTERSIGN_CONFIG: optionalString.describe('path of the YAML config (default ./countersign.yml)'),
  COUNTERSIGN_API_TOKENS: optionalString.describe('comma-separated name:token pairs for the API'),
  COUNTERSIGN_MAX_BODY_BYTES: z.preprocess((v) => (v === '' || v === undefined ? String(5 * 1024 * 1024) : v), z.string().regex(/^\d+$/, 'expected a number of bytes').transform(Number)),
  LOG_LEVEL: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: optionalString,
  GITHUB_WEBHOOK_SECRET: optionalString.describe('the secret of the GitHub webhook: POST /webhooks/github verifies X-Hub-Signature-256 with it (unset: the route answers 503)'),
  COUNTERSIGN_SHUTDOWN_DELAY_MS: z.preprocess((v) => (v === '' || v === undefined ? '0' : v), z.string().regex(/^\d+$/, 'expected milliseconds').transform(Number)).describe('on SIGTERM, how long /readyz answers 503 before the server stops accepting'),
  COUNTERSIGN_SANDBOX: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['on', 'off'], { error: 'expected on or off' }).optional()).describe('with no SLACK_BOT_TOKEN: on (default) serves the local Slack sandbox; off runs with Slack disabled'),
});

export type Env = z.infer<typeof envSchema>;

/** Validates the environment once at start-up; throws a ConfigError naming the variable. */
export function parseEnv(env: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(`environment is invalid:\n${fieldIssues(result.error).map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
  }
  return result.data;
}

export interface ApiToken {
  name: string;
  token: string;
}

/** Parses `name:token,name2:token2`. Throws a ConfigError naming the bad pair (never the token). */
export function parseApiTokens(value: string | undefined): ApiToken[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair, i) => {
      const idx = pair.indexOf(':');
      const name = idx > 0 ? pair.slice(0, idx).trim() : '';
      const token = idx > 0 ? pair.slice(idx + 1).trim() : '';
      if (!name || token.length < 8) {
        throw new ConfigError(`COUNTERSIGN_API_TOKENS: entry ${i + 1} must be name:token with a token of at least 8 characters`);
      }
      return { name, token };
    });
}
