import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiToken } from '../config/env.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Checks `Authorization: Bearer <token>` against the configured tokens in constant time
 * (both sides are hashed first, so lengths never leak). Returns the token, or null.
 */
export function authenticate(header: string | undefined, tokens: readonly ApiToken[]): ApiToken | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const given = digest(m[1]);
  let found: ApiToken | null = null;
  for (const t of tokens) {
    if (timingSafeEqual(given, digest(t.token)) && found === null) found = t;
  }
  return found;
}
