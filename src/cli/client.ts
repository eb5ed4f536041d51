import { UsageError } from './args.ts';

export interface Server {
  /** Base URL without a trailing slash. */
  url: string;
  token: string;
}

/** The server from COUNTERSIGN_URL (default http://localhost:3000) and COUNTERSIGN_TOKEN. */
export function serverFromEnv(env: Record<string, string | undefined>): Server {
  const raw = env.COUNTERSIGN_URL?.trim() || 'http://localhost:3000';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`COUNTERSIGN_URL ${JSON.stringify(raw)} is not a URL (expected e.g. https://countersign.example.com)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`COUNTERSIGN_URL ${JSON.stringify(raw)}: expected an http(s) URL`);
  const token = env.COUNTERSIGN_TOKEN?.trim();
  if (!token) throw new UsageError('COUNTERSIGN_TOKEN is not set: use an API token from the server\'s COUNTERSIGN_API_TOKENS');
  return { url: url.toString().replace(/\/+$/, ''), token };
}

/** The server could not be reached (refused, DNS, TLS, timeout). */
export class ConnectionError extends Error {}

export interface ApiResponse {
  status: number;
  /** Parsed JSON, or null when the body is empty or not JSON. */
  body: any;
  text: string;
}

/** One API call with the bearer token. */
export async function call(server: Server, method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<ApiResponse> {
  let res: Response;
  try {
    res = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${server.token}`, accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ConnectionError(`cannot reach Countersign at ${server.url}: ${describeFetchError(err)}`);
  }
  const text = await res.text().catch(() => '');
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, body: parsed, text };
}

function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'no answer in time';
  const cause = e.cause;
  if (cause?.code) return `${cause.code}${cause.message && !cause.message.includes(cause.code) ? ` (${cause.message})` : ''}`;
  return cause?.message ?? e.message;
}

/** The server's own explanation of an error answer, in one line. */
export function explain(res: ApiResponse): string {
  const b = res.body as { error?: string; message?: string } | null;
  if (b?.message) return b.message;
  if (b?.error) return b.error;
  return res.text.slice(0, 300) || `HTTP ${res.status}`;
}
