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
  COUNTERSIGN_MIGRATIONS_DIR: optionalString.describe('where the migrations are, when the code runs from somewhere else (default drizzle/ in the project root)'),
  COUNTERSIGN_API_TOKENS: optionalString.describe('comma-separated name:token[:scope+scope] entries for the API (scopes: submit, read, deploy, breakglass, admin)'),
  COUNTERSIGN_MAX_BODY_BYTES: z.preprocess((v) => (v === '' || v === undefined ? String(5 * 1024 * 1024) : v), z.string().regex(/^\d+$/, 'expected a number of bytes').transform(Number)),
  LOG_LEVEL: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: optionalString,
  GITHUB_APP_ID: optionalString.describe('the GitHub App id: reading pull requests, the Countersign check run, deployment protection rules'),
  GITHUB_APP_PRIVATE_KEY: optionalString.describe('the GitHub App private key (PEM; literal \\n sequences allowed)'),
  GITHUB_APP_PRIVATE_KEY_FILE: optionalString.describe('a file holding the GitHub App private key (instead of GITHUB_APP_PRIVATE_KEY)'),
  GITHUB_API_URL: optionalString.describe('the GitHub REST API (default https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3)'),
  COUNTERSIGN_PUBLIC_URL: z
    .preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^https?:\/\/[^\s/]+\S*$/, 'expected an http(s) URL, e.g. https://countersign.example.com').optional())
    .describe('where people reach this server; check runs link to ${COUNTERSIGN_PUBLIC_URL}/api/changes/KEY when no Slack card is posted'),
  GITHUB_WEBHOOK_SECRET: optionalString.describe('the secret of the GitHub webhook: POST /webhooks/github verifies X-Hub-Signature-256 with it (unset: the route answers 503)'),
  COUNTERSIGN_SHUTDOWN_DELAY_MS: z.preprocess((v) => (v === '' || v === undefined ? '0' : v), z.string().regex(/^\d+$/, 'expected milliseconds').transform(Number)).describe('on SIGTERM, how long /readyz answers 503 before the server stops accepting'),
  NODE_ENV: optionalString.describe('production refuses the local sandbox'),
  COUNTERSIGN_MIGRATE_ONLY: z
    .preprocess((v) => (v === '' || v === undefined ? '0' : v), z.enum(['0', '1'], { error: 'expected 1 (apply migrations and exit) or 0' }))
    .transform((v) => v === '1')
    .describe('1: apply the migrations, then exit (a migration job run once per release)'),
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

/** What an API token may do. `admin` may do everything. */
export const TOKEN_SCOPES = ['submit', 'read', 'deploy', 'breakglass', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** The rights of a token listed without scopes: everything it could do before scopes existed, except break-glass. */
export const DEFAULT_TOKEN_SCOPES: readonly TokenScope[] = ['submit', 'read', 'deploy'];

export interface ApiToken {
  name: string;
  token: string;
  scopes: readonly TokenScope[];
}

/** True when a token with `scopes` may use a route that needs `required`. */
export const hasScope = (scopes: readonly TokenScope[], required: TokenScope): boolean => scopes.includes(required) || scopes.includes('admin');

/**
 * Parses `name:token[:scope+scope],…` (tokens cannot contain `:` or `,`). Throws a ConfigError
 * naming the bad entry by position and name, never the token.
 */
export function parseApiTokens(value: string | undefined): ApiToken[] {
  if (!value) return [];
  const names = new Set<string>();
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const [name = '', token = '', scopeText, ...extra] = entry.split(':').map((p) => p.trim());
      // Name the entry only when it has a name part: an entry without ":" may be a bare token.
      const where = `COUNTERSIGN_API_TOKENS: entry ${i + 1}${name && entry.includes(':') ? ` (${name})` : ''}`;
      if (!name || token.length < 8 || extra.length > 0) {
        throw new ConfigError(`${where} must be name:token or name:token:scope+scope, with a token of at least 8 characters and no ":" in it`);
      }
      if (names.has(name)) throw new ConfigError(`${where}: the name ${name} is used twice; audit events name the token, so names must differ`);
      names.add(name);
      if (scopeText === undefined) return { name, token, scopes: DEFAULT_TOKEN_SCOPES };
      const scopes = scopeText.split('+').map((s) => s.trim().toLowerCase());
      const bad = scopes.filter((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
      if (bad.length > 0 || scopes.length === 0) {
        throw new ConfigError(`${where}: unknown scope ${bad.map((b) => JSON.stringify(b)).join(', ') || '""'}; scopes are ${TOKEN_SCOPES.join(', ')} (join several with +)`);
      }
      return { name, token, scopes: [...new Set(scopes)] as TokenScope[] };
    });
}
