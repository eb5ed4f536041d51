import { describe, it, expect } from 'vitest';
import { detectAiAssistance, type AiDeclaration, type AiDetectionConfig } from '../../src/domain/ai-detection.ts';
import { resolveAuthor as resolveChecked } from '../../src/domain/authors.ts';
import type { Commit, ResolvedAuthor } from '../../src/domain/types.ts';
import { buildConfig } from '../factories/config.ts';

const config = buildConfig();
const detection = config.ai_detection;
const resolveAuthor = (...a: Parameters<typeof resolveChecked>): ResolvedAuthor => {
  const r = resolveChecked(...a);
  if (!r.ok) throw new Error(r.message);
  return r.author;
};
const human: ResolvedAuthor = resolveAuthor({ github: 'jdoe' }, config.engineers);

const commit = (message: string, sha = 'abcdef1234567890'): Commit => ({ sha, message });

function detect(input: AiDeclaration & { commits?: Commit[]; labels?: string[]; author?: ResolvedAuthor }, cfg: AiDetectionConfig = detection) {
  return detectAiAssistance({ author: human, ...input }, cfg);
}

describe('explicit declaration', () => {
  it('when ai_assisted is declared true, then it is assisted with the declared tool and share and says it was declared', () => {
    expect(detect({ ai_assisted: true, ai_tool: 'Cursor', ai_share: 0.4 })).toEqual({
      assisted: true,
      tool: 'Cursor',
      share: 0.4,
      reasons: ['declared AI-assisted by the submitter'],
    });
  });

  it('when ai_assisted is declared false, then it is not assisted even with an AI trailer, an AI label and a bot author', () => {
    const bot = resolveAuthor({ github: 'dependabot[bot]' }, config.engineers);
    const out = detect({
      ai_assisted: false,
      ai_tool: 'Copilot',
      ai_share: 0.9,
      commits: [commit('feat: x\n\nAssisted-by: Claude')],
      labels: ['ai-assisted'],
      author: bot,
    });
    expect(out).toEqual({ assisted: false, tool: null, share: null, reasons: [] });
  });

  it('when ai_assisted is declared true, then commit trailers are not consulted for the tool', () => {
    const out = detect({ ai_assisted: true, commits: [commit('x\n\nCo-authored-by: Claude <noreply@anthropic.com>')] });
    expect(out.tool).toBeNull();
    expect(out.reasons).toEqual(['declared AI-assisted by the submitter']);
  });
});

describe('commit trailers', () => {
  it('when a commit has an Assisted-by trailer, then it is assisted, the tool is taken from it and the short sha is named', () => {
    const out = detect({ commits: [commit('Fix retry\n\nAssisted-by: Claude Code <noreply@anthropic.com>', '1234567deadbeef')] });
    expect(out.assisted).toBe(true);
    expect(out.tool).toBe('Claude');
    expect(out.reasons).toEqual(['commit 1234567 has an Assisted-by: Claude trailer']);
  });

  it('when an Assisted-by trailer names a tool the config does not know, then it still counts and the tool is its name without the email', () => {
    const out = detect({ commits: [commit('x\n\nAssisted-by: SuperCoder 9000 <bot@supercoder.dev>', 'fedcba987654')] });
    expect(out.assisted).toBe(true);
    expect(out.tool).toBe('SuperCoder 9000');
    expect(out.reasons).toEqual(['commit fedcba9 has an Assisted-by: SuperCoder 9000 trailer']);
  });

  it('when a commit has a Generated-by trailer, then it counts and the reason says Generated-by', () => {
    const out = detect({ commits: [commit('x\n\nGenerated-by: Gemini')] });
    expect(out.assisted).toBe(true);
    expect(out.tool).toBe('Gemini');
    expect(out.reasons).toHaveLength(1);
    expect(out.reasons[0]).toMatch(/^commit abcdef1 has an? Generated-by: Gemini trailer$/);
  });

  for (const [value, tool] of [
    ['Claude <noreply@anthropic.com>', 'Claude'],
    ['GitHub Copilot <copilot@github.com>', 'Copilot'],
    ['Codex <noreply@openai.com>', 'Codex'],
    ['claude <noreply@anthropic.com>', 'Claude'],
    ['COPILOT <175728472+Copilot@users.noreply.github.com>', 'Copilot'],
  ] as const) {
    it(`when a Co-authored-by trailer names "${value}", then it is assisted by ${tool}`, () => {
      const out = detect({ commits: [commit(`Add retry\n\nCo-authored-by: ${value}`)] });
      expect(out.assisted).toBe(true);
      expect(out.tool).toBe(tool);
      expect(out.reasons).toEqual([`commit abcdef1 is co-authored by ${tool}`]);
    });
  }

  it('when the trailer keyword is written in another case, then it is still recognised', () => {
    const out = detect({ commits: [commit('x\n\nco-authored-by: Claude <noreply@anthropic.com>')] });
    expect(out.assisted).toBe(true);
    const out2 = detect({ commits: [commit('x\n\nASSISTED-BY: Copilot')] });
    expect(out2.assisted).toBe(true);
    expect(out2.tool).toBe('Copilot');
  });

  it('when a Co-authored-by trailer names a human, then it does not count as AI assistance', () => {
    const out = detect({ commits: [commit('Pair on retry\n\nCo-authored-by: Jane Smith <jane.smith@example.com>')] });
    expect(out).toEqual({ assisted: false, tool: null, share: null, reasons: [] });
  });

  it('when an assistant name only appears inside another word, then it does not count', () => {
    const out = detect({ commits: [commit('x\n\nCo-authored-by: Claudette Morel <cmorel@example.com>')] });
    expect(out.assisted).toBe(false);
  });

  it('when an assistant name appears in the commit body but not in a trailer, then it does not count', () => {
    const out = detect({ commits: [commit('Ask Claude about this later\n\nSigned-off-by: Jordan Doe <jdoe@example.com>')] });
    expect(out.assisted).toBe(false);
  });

  it('when several commits have trailers, then each is a reason, the first tool wins, and duplicates collapse', () => {
    const out = detect({
      commits: [
        commit('a\n\nCo-authored-by: Copilot <copilot@github.com>', '1111111aaaa'),
        commit('b\n\nCo-authored-by: Claude <noreply@anthropic.com>', '2222222bbbb'),
        commit('c\n\nCo-authored-by: Copilot <copilot@github.com>\nCo-authored-by: Copilot <copilot@github.com>', '3333333cccc'),
      ],
    });
    expect(out.tool).toBe('Copilot');
    expect(out.reasons).toEqual(['commit 1111111 is co-authored by Copilot', 'commit 2222222 is co-authored by Claude', 'commit 3333333 is co-authored by Copilot']);
  });

  it('when a tool is declared without ai_assisted and a trailer names another, then the declared tool is kept', () => {
    const out = detect({ ai_tool: 'Cursor', commits: [commit('x\n\nCo-authored-by: Claude <noreply@anthropic.com>')] });
    expect(out.assisted).toBe(true);
    expect(out.tool).toBe('Cursor');
  });

  it('when the configured assistants are custom, then only those names count in Co-authored-by', () => {
    const cfg = { assistants: ['RoboDev'], labels: [] };
    expect(detect({ commits: [commit('x\n\nCo-authored-by: RoboDev <r@example.com>')] }, cfg).tool).toBe('RoboDev');
    expect(detect({ commits: [commit('x\n\nCo-authored-by: Claude <noreply@anthropic.com>')] }, cfg).assisted).toBe(false);
  });
});

describe('labels', () => {
  it('when the change has the configured label in any case, then it is assisted and the reason names the label as given', () => {
    const out = detect({ labels: ['bug', 'AI-Assisted'] });
    expect(out.assisted).toBe(true);
    expect(out.reasons).toEqual(['labelled AI-Assisted']);
    expect(out.tool).toBeNull();
  });

  it('when the change has only unrelated labels, then it is not assisted', () => {
    expect(detect({ labels: ['bug', 'ai', 'assisted'] }).assisted).toBe(false);
  });

  it('when the config defines its own labels, then those labels count', () => {
    const out = detect({ labels: ['Copilot-Generated'] }, { assistants: detection.assistants, labels: ['copilot-generated'] });
    expect(out.reasons).toEqual(['labelled Copilot-Generated']);
  });
});

describe('bot authors', () => {
  it('when the GitHub login ends in [bot], then it is assisted and the reason names the bot account', () => {
    const bot = resolveAuthor({ github: 'renovate[bot]' }, config.engineers);
    expect(bot.bot).toBe(true);
    const out = detect({ author: bot });
    expect(out.assisted).toBe(true);
    expect(out.reasons).toEqual(['authored by the bot account renovate[bot]']);
  });

  it('when the login is listed in config bot_accounts, then resolveAuthor marks it as a bot and it counts as assisted', () => {
    const cfg = buildConfig({ ai_detection: { bot_accounts: ['acme-automation'] } });
    const bot = resolveAuthor({ github: 'Acme-Automation' }, cfg.engineers, cfg.ai_detection.bot_accounts);
    expect(bot.bot).toBe(true);
    const out = detectAiAssistance({ author: bot }, cfg.ai_detection);
    expect(out.assisted).toBe(true);
    expect(out.reasons).toEqual(['authored by the bot account Acme-Automation']);
  });

  it('when a human author has no trailers or labels, then nothing marks the change and there are no reasons', () => {
    expect(detect({ commits: [commit('Plain change')] })).toEqual({ assisted: false, tool: null, share: null, reasons: [] });
  });
});

describe('combined signals and share', () => {
  it('when a trailer, a label and a bot author all apply, then the reasons list each of them in that order', () => {
    const bot = resolveAuthor({ github: 'github-actions[bot]' }, config.engineers);
    const out = detect({ author: bot, labels: ['ai-assisted'], commits: [commit('x\n\nAssisted-by: Copilot', '9999999zz')] });
    expect(out.reasons).toEqual([
      'commit 9999999 has an Assisted-by: Copilot trailer',
      'labelled ai-assisted',
      'authored by the bot account github-actions[bot]',
    ]);
    expect(out.tool).toBe('Copilot');
  });

  it('when only a positive AI share is declared, then it is assisted and the reason states the share', () => {
    const out = detect({ ai_share: 0.25 });
    expect(out).toEqual({ assisted: true, tool: null, share: 0.25, reasons: ['declared AI share 25%'] });
  });

  it('when an AI share of 0 is declared with no other signal, then it is not assisted and the share is dropped', () => {
    expect(detect({ ai_share: 0 })).toEqual({ assisted: false, tool: null, share: null, reasons: [] });
  });

  it('when a share is declared along with a trailer, then the share is kept and the trailer is the reason', () => {
    const out = detect({ ai_share: 0.6, commits: [commit('x\n\nAssisted-by: Claude')] });
    expect(out.share).toBe(0.6);
    expect(out.reasons).toEqual(['commit abcdef1 has an Assisted-by: Claude trailer']);
  });
});
