import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { hasScope, type ApiToken, type TokenScope } from '../config/env.ts';
import { authenticate } from './auth.ts';
import type { z } from 'zod';
import { fieldIssues } from '../config/issues.ts';
import { badRequest, HttpError, isDatabaseUnavailable } from './errors.ts';

export interface RequestContext {
  req: IncomingMessage;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API token's name for authenticated routes. */
  caller: string;
  /** How the request came in, for audit events: `token:<name>` (or `anonymous`). */
  via: string;
  requestId: string;
  log: Logger;
  /** Reads and parses the JSON body (415 wrong type, 413 too large, 400 malformed). Empty body → undefined. */
  json(): Promise<unknown>;
  /** The raw body bytes (for signature checks). */
  raw(): Promise<Buffer>;
  /** The JSON body validated by `schema` (400 naming every field otherwise); `required`: an empty body is refused. */
  body<T>(schema: z.ZodType<T>, opts?: { required?: boolean }): Promise<T>;
  /** The query string validated by `schema` (400 "the query is invalid", naming every parameter). */
  queryOf<T>(schema: z.ZodType<T>): T;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** A non-JSON body (HTML, CSS, text). */
  text?: string;
}

export type Handler = (ctx: RequestContext) => Promise<Reply>;

interface Route {
  method: string;
  parts: string[];
  auth: boolean;
  scope: TokenScope;
  maxBodyBytes: number | 'large';
  handler: Handler;
}

export interface RouteOptions {
  /** Default: routes under /api and /webhooks need a token. */
  auth?: boolean;
  /** The scope the token needs; default `read` for GET, `submit` otherwise. */
  scope?: TokenScope;
  /**
   * The largest body this route reads: bytes, or `large` for COUNTERSIGN_MAX_BODY_BYTES (intake
   * with terraform plans). Default 1 MiB. A larger body is refused (413) before it is read.
   */
  maxBodyBytes?: number | 'large';
}

/** The default body limit of a route: enough for any JSON body but a change with its terraform plan. */
export const DEFAULT_ROUTE_BODY_BYTES = 1024 * 1024;

export interface ServerOptions {
  logger: Logger;
  tokens: readonly ApiToken[];
  /** Where the API tokens come from, said in every 401 (e.g. "COUNTERSIGN_API_TOKENS"). */
  tokenSource?: string;
  /** Body limit for routes that accept large bodies (POST /api/changes). */
  maxBodyBytes: number;
  /** A request must arrive whole within this (slow bodies are cut off with 408). Default 30 s. */
  requestTimeoutMs?: number;
  /** Headers must arrive within this. Default 10 s. */
  headersTimeoutMs?: number;
  /** Open connections at most; more are refused at once. Default 1024. */
  maxConnections?: number;
  /** Called when each response finishes (metrics); `route` is the matched pattern, not the raw path. */
  observe?(method: string, route: string, status: number, seconds: number): void;
}

/**
 * A small router on node:http. Bolt's receiver is mounted as the handler for `/slack/*`
 * on the same server, so the API and Slack share one port (see README, "Architecture").
 */
export class HttpServer {
  private routes: Route[] = [];
  private mounts: { prefix: string; listener: RequestListener }[] = [];
  private server: Server;
  private accepting = true;
  private inFlight = 0;
  private tokens: readonly ApiToken[];
  private tokenSource: string;
  private ready = false;
  private allowedHosts: Set<string> | null = null;

  constructor(private readonly opts: ServerOptions) {
    // A slow body must not hold memory and a socket for ever (slowloris): cut it off.
    const requestTimeout = opts.requestTimeoutMs ?? 30_000;
    this.server = createServer(
      {
        requestTimeout,
        headersTimeout: Math.min(opts.headersTimeoutMs ?? 10_000, requestTimeout),
        // How often Node looks for timed-out requests (its default, 30 s, would let a slow body run twice as long).
        connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(requestTimeout / 4))),
      },
      (req, res) => void this.handle(req, res),
    );
    this.server.keepAliveTimeout = 5_000;
    this.server.maxConnections = opts.maxConnections ?? 1024;
    this.tokens = opts.tokens;
    this.tokenSource = opts.tokenSource ?? 'COUNTERSIGN_API_TOKENS';
  }

  /** Replaces the accepted API tokens (a generated one, the sandbox's own), and what a 401 says about where they come from. */
  setTokens(tokens: readonly ApiToken[], source?: string): void {
    this.tokens = tokens;
    if (source) this.tokenSource = source;
  }

  /** Starts answering routes: until then (the port is bound while the database opens) every request gets 503. */
  open(): void {
    this.ready = true;
  }

  /** Answers 421 to any request whose Host header names another host (DNS rebinding protection). */
  allowOnlyHosts(hosts: readonly string[]): void {
    this.allowedHosts = new Set(hosts.map((h) => h.toLowerCase()));
  }

  /** Registers a route; `:name` segments become params. Routes under /api and /webhooks need a token unless `auth: false`. */
  route(method: string, path: string, handler: Handler, opts: RouteOptions = {}): this {
    const auth = opts.auth ?? (path.startsWith('/api/') || path.startsWith('/webhooks/'));
    const scope = opts.scope ?? (method === 'GET' ? 'read' : 'submit');
    this.routes.push({ method, parts: path.split('/').filter(Boolean), auth, scope, maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_ROUTE_BODY_BYTES, handler });
    return this;
  }

  /** Hands every request under `prefix` to another listener (Bolt's receiver, the sandbox). */
  mount(prefix: string, listener: RequestListener): this {
    this.mounts.push({ prefix, listener });
    return this;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /** Stops accepting connections and waits (up to `graceMs`) for in-flight requests. */
  async close(graceMs = 10_000): Promise<void> {
    this.accepting = false;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.server.closeAllConnections();
    await closed;
  }

  get nodeServer(): Server {
    return this.server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    const started = process.hrtime.bigint();
    let routeLabel = 'unmatched';
    res.once('close', () => {
      this.inFlight--;
      // A response that never finished (the client went away, or the body timed out) is 499, not the 200 preset on it.
      const status = res.writableFinished ? res.statusCode : 499;
      this.opts.observe?.(req.method ?? 'GET', routeLabel, status, Number(process.hrtime.bigint() - started) / 1e9);
    });
    const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 100)) || randomUUID();
    res.setHeader('x-request-id', requestId);
    if (!this.accepting) res.setHeader('connection', 'close');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const log = this.opts.logger.child({ reqId: requestId });
    if (!this.ready) {
      send(res, { status: 503, body: { error: 'starting', message: 'Countersign is starting; retry in a moment' }, headers: { 'retry-after': '1' } });
      req.resume();
      return;
    }
    if (this.allowedHosts && !this.allowedHosts.has(hostOf(req.headers.host))) {
      send(res, { status: 421, body: { error: 'host_not_allowed', message: `this server only answers requests for ${[...this.allowedHosts].join(', ')} (the sandbox is local only)` } });
      req.resume();
      return;
    }
    const mount = this.mounts.find((m) => url.pathname === m.prefix || url.pathname.startsWith(m.prefix.endsWith('/') ? m.prefix : `${m.prefix}/`));
    if (mount) {
      routeLabel = mount.prefix;
      try {
        await mount.listener(req, res);
      } catch (err) {
        log.error({ err, path: url.pathname }, 'mounted handler failed');
        if (!res.headersSent) send(res, { status: 500, body: { error: 'internal_error', request_id: requestId } });
      }
      return;
    }
    try {
      const reply = await this.dispatch(req, url, requestId, log, (r) => (routeLabel = r));
      send(res, reply);
    } catch (err) {
      if (err instanceof HttpError) {
        send(res, { status: err.status, body: err.body, headers: err.headers });
      } else if (isDatabaseUnavailable(err)) {
        log.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'database unavailable');
        send(res, { status: 503, body: { error: 'database_unavailable', message: 'the database is not reachable; retry shortly' }, headers: { 'retry-after': '5' } });
      } else {
        log.error({ err, method: req.method, path: url.pathname }, 'request failed');
        send(res, { status: 500, body: { error: 'internal_error', message: 'an unexpected error occurred', request_id: requestId } });
      }
      req.resume();
    }
  }

  private async dispatch(req: IncomingMessage, url: URL, requestId: string, log: Logger, matched: (route: string) => void): Promise<Reply> {
    const parts = url.pathname.split('/').filter(Boolean);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = match(route.parts, parts);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== req.method && !(route.method === 'GET' && req.method === 'HEAD')) continue;
      matched(`/${route.parts.join('/')}`);
      let caller = 'anonymous';
      if (route.auth) {
        const token = authenticate(req.headers.authorization, this.tokens);
        if (!token) {
          throw new HttpError(401, { error: 'unauthorized', message: `send Authorization: Bearer <token> with ${this.tokenSource === 'COUNTERSIGN_API_TOKENS' ? 'a token from COUNTERSIGN_API_TOKENS' : this.tokenSource}` }, { 'www-authenticate': 'Bearer' });
        }
        if (!hasScope(token.scopes, route.scope)) {
          throw new HttpError(403, {
            error: 'insufficient_scope',
            message: `the token "${token.name}" may not ${req.method} ${url.pathname}: it needs the ${route.scope} scope (or admin) and has ${token.scopes.join(', ')}`,
            required_scope: route.scope,
          });
        }
        caller = token.name;
      }
      let rawBody: Promise<Buffer> | undefined;
      const limit = route.maxBodyBytes === 'large' ? this.opts.maxBodyBytes : route.maxBodyBytes;
      const raw = () => (rawBody ??= readBody(req, limit));
      const ctx: RequestContext = {
        req,
        params,
        query: url.searchParams,
        caller,
        via: route.auth ? `token:${caller}` : 'anonymous',
        requestId,
        log,
        raw,
        json: async () => {
          const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
          const buf = await raw();
          if (buf.length === 0) return undefined;
          if (type !== 'application/json') throw new HttpError(415, { error: 'unsupported_media_type', message: 'send the body as Content-Type: application/json' });
          let value: unknown;
          try {
            value = JSON.parse(buf.toString('utf8'));
          } catch (e) {
            throw new HttpError(400, { error: 'invalid_json', message: `the body is not valid JSON: ${(e as Error).message}` });
          }
          const problem = unstorable(value);
          if (problem) throw new HttpError(400, { error: 'validation_failed', message: `${problem.path}: ${problem.message}`, issues: [problem] });
          return value;
        },
        queryOf: (schema) => {
          const parsed = schema.safeParse(Object.fromEntries(url.searchParams));
          if (!parsed.success) throw badRequest(fieldIssues(parsed.error), 'the query is invalid');
          return parsed.data;
        },
        body: async (schema, opts = {}) => {
          const value = await ctx.json();
          if (value === undefined && opts.required) throw badRequest([{ path: '(root)', message: 'expected a JSON object body' }]);
          const parsed = schema.safeParse(value);
          if (!parsed.success) throw badRequest(fieldIssues(parsed.error));
          return parsed.data;
        },
      };
      return route.handler(ctx);
    }
    if (pathMatched) throw new HttpError(405, { error: 'method_not_allowed', message: `${req.method} is not allowed on ${url.pathname}` });
    throw new HttpError(404, { error: 'not_found', message: `no route for ${req.method} ${url.pathname}` });
  }
}

/** The host name of a Host header, lowercase, without the port (`[::1]:3000` → `[::1]`). */
function hostOf(header: string | undefined): string {
  const h = (header ?? '').trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d*$/, '');
}

function match(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i].startsWith(':')) {
      try {
        params[pattern[i].slice(1)] = decodeURIComponent(parts[i]);
      } catch {
        return null;
      }
    } else if (pattern[i] !== parts[i]) return null;
  }
  return params;
}

/** Reads a body up to `limit` bytes; a larger one is refused with 413 without reading it all. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// The rest of the body is never read: the connection closes after the answer.
const tooLarge = (limit: number) => new HttpError(413, { error: 'payload_too_large', message: `the body is larger than ${limit} bytes` }, { connection: 'close' });

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | undefined;
  if (reply.text !== undefined) payload = reply.text;
  else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}

const MAX_JSON_DEPTH = 64;

/**
 * Text Postgres cannot store (a NUL character, a lone UTF-16 surrogate) and absurdly deep nesting
 * are refused up front with the path that holds them, so no input can reach the database and fail there.
 */
export function unstorable(value: unknown, path = '', depth = 0): { path: string; message: string } | null {
  const at = path || '(root)';
  if (depth > MAX_JSON_DEPTH) return { path: at, message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return { path: at, message: 'contains a NUL character' };
    if (!value.isWellFormed()) return { path: at, message: 'contains invalid Unicode (a lone surrogate)' };
    return null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = unstorable(value[i], `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const keyPath = path ? `${path}.${k || '""'}` : k || '""';
      const bad = unstorable(k, keyPath, depth + 1);
      if (bad) return { path: keyPath, message: `key ${bad.message}` };
      const p = unstorable(v, keyPath, depth + 1);
      if (p) return p;
    }
  }
  return null;
}
