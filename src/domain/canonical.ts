import { createHash } from 'node:crypto';

/** SHA-256 of a plan's canonical JSON (keys sorted), so the same plan always hashes the same. */
export function planDigest(plan: unknown): string {
  return createHash('sha256').update(canonicalJson(plan)).digest('hex');
}

/** JSON with object keys sorted and no whitespace: the same value always gives the same text (hashing, audit chain). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}
