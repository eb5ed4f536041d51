/** Built-in defaults, used when the config file leaves a section out. Documented in the README. */

export const DEFAULT_AI_DETECTION = {
  assistants: ['Copilot', 'Claude', 'Codex', 'Cursor', 'Gemini', 'Amazon Q', 'CodeWhisperer', 'Devin', 'Aider', 'Windsurf', 'Codeium', 'Tabnine', 'ChatGPT', 'OpenAI', 'Anthropic', 'Jules', 'Sweep', 'Cline'],
  labels: ['ai-assisted'],
  bot_accounts: [] as string[],
};

/** Paths where an AI-assisted change deserves a senior's eyes whoever wrote it. */
export const DEFAULT_SENSITIVE_PATHS = [
  '**/auth/**',
  '**/security/**',
  '**/crypto/**',
  '**/secrets/**',
  '**/migrations/**',
  '**/*.tf',
  '.github/workflows/**',
  'k8s/**',
  'helm/**',
];

export const DEFAULT_POLICY_RULES = [
  {
    name: 'ai-change-by-non-senior',
    description: 'AI-assisted change by a junior or mid-level engineer',
    when: { ai_assisted: true, author_level: ['junior', 'mid', 'unknown'] as ('junior' | 'mid' | 'unknown')[] },
    level: 'high' as const,
  },
  {
    name: 'destroys-infrastructure',
    description: 'The plan deletes or replaces infrastructure in production',
    when: { infra_destroys_at_least: 1, environment: ['production'] },
    level: 'critical' as const,
  },
  {
    name: 'ai-change-with-wide-blast-radius',
    description: 'AI-assisted production change to services that at least 3 services depend on (blast radius)',
    when: { ai_assisted: true, blast_radius_at_least: 3, environment: ['production'] },
    level: 'high' as const,
  },
  {
    name: 'ai-change-to-sensitive-paths',
    description: 'AI-assisted change touching sensitive paths (auth, security, migrations, infrastructure, CI)',
    when: { ai_assisted: true, paths_match: DEFAULT_SENSITIVE_PATHS },
    level: 'high' as const,
  },
];

export const DEFAULT_APPROVALS = { low: 0, medium: 1, high: 1, critical: 2 };

/** Lines of a pull request body that mark it AI-assisted (`github.ai_body_markers`). */
export const DEFAULT_GITHUB_AI_BODY_MARKERS = ['- [x] AI-assisted', 'AI-assisted: yes'];
