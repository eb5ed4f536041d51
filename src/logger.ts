import pino, { type Logger } from 'pino';

/** Paths never written to logs: tokens, secrets and Authorization headers. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'botToken',
  'signingSecret',
  'appToken',
  '*.botToken',
  '*.signingSecret',
  '*.appToken',
  'config.token',
];

/** Structured JSON logs; `pretty` (human-readable) when a person runs it in a terminal outside production. */
export function createLogger(level: string, opts: { pretty?: boolean; destination?: pino.DestinationStream } = {}): Logger {
  const pretty = opts.pretty ?? false;
  const base = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'countersign' } };
  if (opts.destination) return pino(base, opts.destination);
  if (pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss', ignore: 'pid,hostname,service' } } });
  // Buffered, asynchronous writes to stdout: a synchronous write per line costs the request path.
  const dest = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  process.once('beforeExit', () => dest.flushSync());
  return pino(base, dest);
}
