import type { AiAssessment, Commit, ResolvedAuthor } from './types.ts';

export interface AiDetectionConfig {
  assistants: readonly string[];
  labels: readonly string[];
  /**
   * Lines of a pull request body that mark it AI-assisted (`github.ai_body_markers`, e.g.
   * `- [x] AI-assisted`). Matched case-insensitively against each whole line, whitespace collapsed.
   */
  bodyMarkers?: readonly string[];
}

export interface AiDeclaration {
  ai_assisted?: boolean;
  ai_tool?: string;
  ai_share?: number;
}

const TRAILER = /^(assisted-by|co-authored-by|generated-by)\s*:\s*(.+)$/gim;

/** Finds the assistant named in a trailer value, e.g. "Claude <noreply@anthropic.com>" → "Claude". */
function assistantIn(value: string, assistants: readonly string[]): string | null {
  // Only the name counts: an email domain (sam@cursor.com) does not make a human an assistant.
  const v = value.replace(/<.*$/, '').toLowerCase();
  for (const a of assistants) {
    const needle = a.toLowerCase();
    const at = v.indexOf(needle);
    if (at === -1) continue;
    const before = at === 0 ? ' ' : v[at - 1];
    const after = v[at + needle.length] ?? ' ';
    if (!/[a-z0-9]/.test(before) && !/[a-z0-9]/.test(after)) return a;
  }
  return null;
}

const normalizeLine = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** The first configured marker that a line of `body` equals (case-insensitive, whitespace collapsed), or null. */
export function bodyMarkerIn(body: string | null | undefined, markers: readonly string[] | undefined): string | null {
  if (!body || !markers?.length) return null;
  const wanted = new Map(markers.map((m) => [normalizeLine(m), m] as const));
  for (const line of body.split(/\r?\n/)) {
    const hit = wanted.get(normalizeLine(line));
    if (hit) return hit;
  }
  return null;
}

/**
 * Decides whether a change is AI-assisted. An explicit `ai_assisted` wins; otherwise any of
 * an `Assisted-by:` trailer, a `Co-authored-by:` trailer naming a known assistant, a configured
 * label, or a bot author marks it, and the reasons say which.
 */
export function detectAiAssistance(
  input: AiDeclaration & { commits?: readonly Commit[]; labels?: readonly string[]; author: ResolvedAuthor; body?: string | null },
  config: AiDetectionConfig,
): AiAssessment {
  const share = input.ai_share ?? null;
  const declaredTool = input.ai_tool ?? null;
  if (input.ai_assisted !== undefined) {
    return {
      assisted: input.ai_assisted,
      tool: input.ai_assisted ? declaredTool : null,
      share: input.ai_assisted ? share : null,
      reasons: input.ai_assisted ? ['declared AI-assisted by the submitter'] : [],
    };
  }
  const reasons: string[] = [];
  let tool: string | null = declaredTool;
  for (const commit of input.commits ?? []) {
    for (const m of commit.message.matchAll(TRAILER)) {
      const kind = m[1].toLowerCase();
      const value = m[2].trim();
      const short = commit.sha.slice(0, 7);
      if (kind === 'assisted-by' || kind === 'generated-by') {
        const name = assistantIn(value, config.assistants) ?? value.replace(/\s*<.*$/, '').slice(0, 60);
        tool ??= name;
        reasons.push(`commit ${short} has ${kind === 'assisted-by' ? 'an Assisted-by' : 'a Generated-by'}: ${name} trailer`);
      } else {
        const name = assistantIn(value, config.assistants);
        if (name) {
          tool ??= name;
          reasons.push(`commit ${short} is co-authored by ${name}`);
        }
      }
    }
  }
  const labelSet = new Set(config.labels.map((l) => l.toLowerCase()));
  for (const label of input.labels ?? []) {
    if (labelSet.has(label.toLowerCase())) reasons.push(`labelled ${label}`);
  }
  const marker = bodyMarkerIn(input.body, config.bodyMarkers);
  if (marker) reasons.push(`the pull request body says "${marker}"`);
  if (input.author.bot) reasons.push(`authored by the bot account ${input.author.github}`);
  const unique = [...new Set(reasons)];
  const assisted = unique.length > 0 || share !== null && share > 0;
  if (unique.length === 0 && assisted) unique.push(`declared AI share ${Math.round(share! * 100)}%`);
  return { assisted, tool: assisted ? tool : null, share: assisted ? share : null, reasons: unique };
}
