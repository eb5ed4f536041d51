import type { z } from 'zod';

/** Formats a zod issue path the way people write it: `teams[1].seniors`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      // An empty key still gets a visible path.
      const name = String(part) === '' ? '""' : String(part);
      out += out ? `.${name}` : name;
    }
  }
  return out;
}

export type { FieldIssue } from '../domain/errors.ts';
import type { FieldIssue } from '../domain/errors.ts';

/** Turns a zod error into `{ path, message }` pairs, one per problem, naming the field. */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') {
      return i.keys.map((k) => ({ path: formatPath([...i.path, k]), message: 'unknown key (check the spelling)' }));
    }
    let message = i.message.replace(/^Invalid input: /, '');
    if (i.code === 'invalid_type' && /received undefined/.test(message)) message = 'is required';
    return [{ path: formatPath(i.path) || '(root)', message }];
  });
}
