import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { Button, KnownBlock, ModalView, View } from '@slack/types';
import type { Change } from '../../src/domain/change.ts';
import type { DestroyedResource, InfraSummary, RiskReason } from '../../src/domain/types.ts';
import { ActionId, BlockId, CallbackId, InputId, changeButtonValue, parsePayload, rejectModalMetadata } from '../../src/slack/ids.ts';
import { escapeMrkdwn, fitMrkdwn, formatTime, link, mention, safeText, truncate } from '../../src/slack/mrkdwn.ts';
import { authorRef, buildChangeCard, cardText, progressLine, type SlackMessage } from '../../src/slack/views/change-card.ts';
import { buildChangeHelp, buildPendingList, waitingOn } from '../../src/slack/views/change-list.ts';
import { authorDecisionDm, signOffThreadReply } from '../../src/slack/views/notices.ts';
import { buildRejectModal } from '../../src/slack/views/reject-modal.ts';
import { buildChange, CREATED_AT, signOff } from '../factories/domain-change.ts';

// ---------------------------------------------------------------------------------------------
// Helpers to look inside Block Kit messages
// ---------------------------------------------------------------------------------------------

type BlockOf<T extends KnownBlock['type']> = Extract<KnownBlock, { type: T }>;

function ofType<T extends KnownBlock['type']>(blocks: KnownBlock[], type: T): BlockOf<T>[] {
  return blocks.filter((b): b is BlockOf<T> => b.type === type);
}

function header(msg: SlackMessage): BlockOf<'header'> {
  const h = ofType(msg.blocks, 'header');
  expect(h).toHaveLength(1);
  return h[0];
}

/** The fields section (author, service, environment, risk) as `label -> value`. */
function fields(msg: SlackMessage): Record<string, string> {
  const s = ofType(msg.blocks, 'section').find((b) => b.fields);
  expect(s, 'a section with fields').toBeDefined();
  const out: Record<string, string> = {};
  for (const f of s!.fields!) {
    expect(f.type).toBe('mrkdwn');
    const [label, ...rest] = f.text.split('\n');
    out[label] = rest.join('\n');
  }
  return out;
}

/** Texts of every section block that has a `text`. */
function sectionTexts(msg: SlackMessage): string[] {
  return ofType(msg.blocks, 'section').flatMap((b) => (b.text ? [b.text.text] : []));
}

/** Every mrkdwn string a Slack client would parse: section texts, section fields, context elements. */
function mrkdwnTexts(blocks: KnownBlock[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.type === 'section') {
      if (b.text?.type === 'mrkdwn') out.push(b.text.text);
      for (const f of b.fields ?? []) if (f.type === 'mrkdwn') out.push(f.text);
    } else if (b.type === 'context') {
      for (const e of b.elements) if (e.type === 'mrkdwn') out.push(e.text);
    }
  }
  return out;
}

function contextTexts(msg: SlackMessage): string[] {
  return ofType(msg.blocks, 'context').flatMap((b) => b.elements.flatMap((e) => (e.type === 'mrkdwn' ? [e.text] : [])));
}

function buttons(msg: SlackMessage): Button[] {
  const actions = ofType(msg.blocks, 'actions');
  expect(actions).toHaveLength(1);
  return actions[0].elements.filter((e): e is Button => e.type === 'button');
}

/** The status section: the last section, after the divider. */
function statusText(msg: SlackMessage): string {
  const divider = msg.blocks.findIndex((b) => b.type === 'divider');
  expect(divider).toBeGreaterThan(0);
  const after = ofType(msg.blocks.slice(divider + 1), 'section');
  expect(after).toHaveLength(1);
  expect(after[0].text?.type).toBe('mrkdwn');
  return after[0].text!.text;
}

function reasonsText(msg: SlackMessage): string {
  const t = sectionTexts(msg).find((s) => s.startsWith('*Why it needs review*'));
  expect(t, 'the reasons section').toBeDefined();
  return t!;
}

const HOSTILE = '<!channel> <https://evil|x> & <@U0BOB>';
const HOSTILE_ESCAPED = '&lt;!channel&gt; &lt;https://evil|x&gt; &amp; &lt;@U0BOB&gt;';

/** Nothing in `text` is a live Slack token, and every `&` starts one of the three entities. */
function expectInert(text: string): void {
  expect(text).not.toContain('<!channel>');
  expect(text).not.toContain('<!');
  expect(text).not.toContain('<https://evil');
  expect(text).not.toContain('<@U0BOB>');
  expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
}

/** Undoes escapeMrkdwn. */
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function destroyed(n: number, address = (i: number) => `aws_db_instance.orders_${i}`): DestroyedResource[] {
  return Array.from({ length: n }, (_, i) => ({ address: address(i + 1), action: i % 2 ? 'replace' : 'delete', reason: null }));
}

function infra(over: Partial<InfraSummary> = {}): InfraSummary {
  return { format_version: '1.2', creates: 2, updates: 1, deletes: 5, replaces: 2, destroys: 7, destroyed: destroyed(7), ...over };
}

function reason(rule: string, facts: string[]): RiskReason {
  return { rule, description: `${rule} description`, facts, text: `${rule}: ${facts.join('; ')}` };
}

// ---------------------------------------------------------------------------------------------
// mrkdwn helpers
// ---------------------------------------------------------------------------------------------

describe('escapeMrkdwn', () => {
  it('when text holds Slack control characters, then &, < and > become entities and nothing else changes', () => {
    expect(escapeMrkdwn(HOSTILE)).toBe(HOSTILE_ESCAPED);
    expect(escapeMrkdwn('*bold* _it_ `code` ~s~ é 😀')).toBe('*bold* _it_ `code` ~s~ é 😀');
  });

  it('when text already contains an entity, then its ampersand is escaped again so it shows literally', () => {
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
  });
});

describe('truncate', () => {
  it('when text fits, then it is returned unchanged, including at exactly max', () => {
    expect(truncate('hello', 10)).toBe('hello');
    expect(truncate('hello', 5)).toBe('hello');
  });

  it('when text is too long, then it is cut to max characters ending with an ellipsis', () => {
    const out = truncate('abcdefghij', 5);
    expect(out).toBe('abcd…');
    expect(out.length).toBe(5);
  });

  it('when the cut ends in spaces, then they are trimmed before the ellipsis', () => {
    expect(truncate('abc   defgh', 6)).toBe('abc…');
  });
});

describe('safeText', () => {
  it('when escaped text fits, then it is the escaped text without an ellipsis', () => {
    expect(safeText(HOSTILE, 1000)).toBe(HOSTILE_ESCAPED);
  });

  it('when the limit falls inside an entity, then the whole entity is dropped rather than cut', () => {
    // escaped: "ab&amp;cd" (9 chars); with max 5, "ab&amp;" (7) does not fit before the ellipsis.
    expect(safeText('ab&cd', 5)).toBe('ab…');
    expect(safeText('ab&cd', 8)).toBe('ab&amp;…');
  });

  it('when cut at every length from 1 to the full length, then no entity is ever cut in half and the result is a prefix', () => {
    const text = 'a&b<c>d & <!channel> <@U0BOB> && <<>> tail';
    const full = escapeMrkdwn(text);
    for (let max = 1; max <= full.length + 2; max++) {
      const out = safeText(text, max);
      expect(out.length, `max ${max}`).toBeLessThanOrEqual(max);
      if (full.length <= max) {
        expect(out).toBe(full);
        continue;
      }
      expect(out.endsWith('…')).toBe(true);
      const body = out.slice(0, -1);
      expect(body, `max ${max}`).not.toMatch(/&(?!amp;|lt;|gt;)/);
      expect(body).not.toMatch(/[<>]/);
      expect(text.startsWith(unescape(body)), `max ${max}: ${out}`).toBe(true);
    }
  });

  it('when given arbitrary text and limits (property), then the result fits, keeps entities whole, never splits an emoji and is a prefix', () => {
    const piece = fc.constantFrom('&', '<', '>', 'a', 'Z', ' ', '\n', 'é', '😀', '|', '*', '&amp;');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 80 }), fc.integer({ min: 1, max: 200 }), (parts, max) => {
        const text = parts.join('');
        const out = safeText(text, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(out).not.toMatch(LONE_SURROGATE);
        const full = escapeMrkdwn(text);
        if (full.length <= max) {
          expect(out).toBe(full);
          return;
        }
        const body = out.slice(0, -1);
        expect(out.endsWith('…')).toBe(true);
        expect(body).not.toMatch(/&(?!amp;|lt;|gt;)/);
        expect(body).not.toMatch(/[<>]/);
        expect(text.startsWith(unescape(body))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('fitMrkdwn', () => {
  it('when mrkdwn fits, then it is returned unchanged', () => {
    expect(fitMrkdwn('*a*\n<@U0ALICE>', 100)).toBe('*a*\n<@U0ALICE>');
  });

  it('when a line end lies in the second half of the limit, then the text is cut there with an ellipsis', () => {
    const text = `${'a'.repeat(30)}\n${'b'.repeat(30)}\n${'c'.repeat(30)}`;
    expect(fitMrkdwn(text, 70)).toBe(`${'a'.repeat(30)}\n${'b'.repeat(30)}…`);
  });

  it('when the cut falls inside an entity, then the half entity is removed', () => {
    // "x".repeat(8) + "&amp;" : a cut at 9 characters would leave "&"; at 10, "&a"; at 11, "&am"; at 12, "&amp".
    const text = `${'x'.repeat(8)}&amp;${'y'.repeat(20)}`;
    for (let max = 10; max <= 13; max++) {
      const out = fitMrkdwn(text, max);
      expect(out, `max ${max}`).toBe(`${'x'.repeat(8)}…`);
    }
  });

  it('when the cut falls inside a mention or link token, then the half token is removed', () => {
    const text = `${'x'.repeat(10)} <@U0ALICE> and <https://example.com/a|View change> ${'y'.repeat(40)}`;
    expect(fitMrkdwn(text, 16)).toBe(`${'x'.repeat(10)} …`);
    expect(fitMrkdwn(text, 35)).toBe(`${'x'.repeat(10)} <@U0ALICE> and …`);
  });

  it('when given arbitrary escaped lines and limits (property), then the result fits and never ends in a half entity or token', () => {
    const line = fc.array(fc.constantFrom('&', '<', '>', 'word', ' ', 'é'), { maxLength: 30 }).map((p) => escapeMrkdwn(p.join('')));
    const token = fc.constantFrom('<@U0ALICE>', '<https://example.com/x?a=1&amp;b=2|View change>', '*bold*');
    fc.assert(
      fc.property(fc.array(fc.oneof(line, token), { maxLength: 40 }), fc.integer({ min: 2, max: 400 }), (parts, max) => {
        const text = parts.join('\n');
        const out = fitMrkdwn(text, max);
        expect(out.length).toBeLessThanOrEqual(max);
        if (text.length <= max) {
          expect(out).toBe(text);
          return;
        }
        expect(out.endsWith('…')).toBe(true);
        const body = out.slice(0, -1);
        expect(body).not.toMatch(/&(?!amp;|lt;|gt;)/);
        expect(body).not.toMatch(/<[^>]*$/);
        expect(text.startsWith(body)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('mention', () => {
  it('when the id is a Slack user id, then it becomes a mention', () => {
    expect(mention('U0ALICE')).toBe('<@U0ALICE>');
    expect(mention('W012ABC')).toBe('<@W012ABC>');
  });

  it('when the id is missing or not a user id, then it is "someone" and never a raw token', () => {
    for (const id of [null, undefined, '', 'alice', 'u0alice', '!channel', 'U0BOB> <!channel', 'C0CHANNEL']) {
      expect(mention(id), String(id)).toBe('someone');
    }
  });
});

describe('link', () => {
  it('when the URL is a plain http(s) URL, then it becomes a link with & escaped in the URL and the label escaped', () => {
    expect(link('https://github.com/acme/shop/pull/42?a=1&b=2', 'PR <42> & co')).toBe('<https://github.com/acme/shop/pull/42?a=1&amp;b=2|PR &lt;42&gt; &amp; co>');
  });

  it('when the label contains a pipe, then it is replaced so it cannot end the label early', () => {
    expect(link('https://example.com', 'a|b')).toBe('<https://example.com|a¦b>');
  });

  it('when the URL is missing, not http(s), or contains <, > or |, then only the escaped label is returned', () => {
    for (const url of [null, undefined, '', 'javascript:alert(1)', 'ftp://example.com', 'https://evil|x', 'https://a.com/<!channel>', 'https://a.com/ x']) {
      expect(link(url, 'View <change>'), String(url)).toBe('View &lt;change&gt;');
    }
  });
});

describe('formatTime', () => {
  it('when given a date, then it is shown as "YYYY-MM-DD HH:MM UTC" regardless of seconds', () => {
    expect(formatTime(new Date('2026-11-02T10:00:59.999Z'))).toBe('2026-11-02 10:00 UTC');
    expect(formatTime(new Date('2026-03-02T23:05:00+02:00'))).toBe('2026-03-02 21:05 UTC');
  });
});

// ---------------------------------------------------------------------------------------------
// The change card
// ---------------------------------------------------------------------------------------------

describe('buildChangeCard: a pending change', () => {
  const change = buildChange();
  const msg = buildChangeCard(change);

  it('when pending, then the header is plain text "CHG-12 · <title>" without emoji parsing', () => {
    expect(header(msg).text).toEqual({ type: 'plain_text', text: 'CHG-12 · Retry payment capture on timeout', emoji: false });
    expect(msg.blocks[0].type).toBe('header');
  });

  it('when pending, then the fields show the author mention with level, service, environment and risk', () => {
    expect(fields(msg)).toEqual({
      '*Author*': '<@U0JUNIOR> (junior)',
      '*Service*': 'checkout',
      '*Environment*': 'production',
      '*Risk*': ':large_orange_circle: high',
    });
  });

  it('when pending with several services, then the label is plural and they are listed comma-separated', () => {
    const f = fields(buildChangeCard(buildChange({ services: ['checkout', 'payments-api'] })));
    expect(f['*Services*']).toBe('checkout, payments-api');
    expect(f['*Service*']).toBeUndefined();
  });

  it('when pending, then the reasons section lists every reason with its rule in bold and its facts', () => {
    const two = buildChange({
      risk: {
        level: 'critical',
        reasons: [
          ...buildChange().risk.reasons,
          reason('destroys-infrastructure', ['destroys 2 resources: deletes 1, replaces 1 (terraform_data.cache, terraform_data.vpc)', 'environment production']),
        ],
      },
    });
    expect(reasonsText(msg)).toBe(
      '*Why it needs review*\n• *ai-change-by-non-senior*: AI-assisted (Copilot): declared AI-assisted by the submitter; author Jordan Doe is junior',
    );
    const lines = reasonsText(buildChangeCard(two)).split('\n');
    expect(lines).toEqual([
      '*Why it needs review*',
      '• *ai-change-by-non-senior*: AI-assisted (Copilot): declared AI-assisted by the submitter; author Jordan Doe is junior',
      '• *destroys-infrastructure*: destroys 2 resources: deletes 1, replaces 1 (terraform_data.cache, terraform_data.vpc); environment production',
    ]);
    expect(fields(buildChangeCard(two))['*Risk*']).toBe(':red_circle: critical');
  });

  it('when the risk has no reasons, then there is no reasons section', () => {
    const low = buildChangeCard(buildChange({ risk: { level: 'low', reasons: [] } }));
    expect(sectionTexts(low).some((t) => t.includes('Why it needs review'))).toBe(false);
    expect(fields(low)['*Risk*']).toBe(':large_green_circle: low');
  });

  it('when AI-assisted with a tool and share, then a context block shows the AI badge, the diff stats and the link', () => {
    expect(contextTexts(msg)).toEqual([
      ':robot_face: *AI-assisted* · Copilot · 60% AI-generated',
      ':page_facing_up: +120 −14 in 3 files',
      ':link: <https://github.com/acme/shop/pull/42|View change>',
    ]);
  });

  it('when the AI tool and share are unknown, then the badge shows neither', () => {
    const c = buildChangeCard(buildChange({ ai: { assisted: true, tool: null, share: null, reasons: ['labelled ai-assisted'] } }));
    expect(contextTexts(c)[0]).toBe(':robot_face: *AI-assisted*');
  });

  it('when the change is not AI-assisted, has one changed file and no URL, then the context has only the singular diff line', () => {
    const c = buildChangeCard(
      buildChange({ ai: { assisted: false, tool: null, share: null, reasons: [] }, url: null, diff: { files_changed: 1, additions: 2, deletions: 0, paths: ['README.md'] } }),
    );
    expect(contextTexts(c)).toEqual([':page_facing_up: +2 −0 in 1 file']);
  });

  it('when there is no AI, diff or URL, then there is no context block at all', () => {
    const c = buildChangeCard(buildChange({ ai: { assisted: false, tool: null, share: null, reasons: [] }, url: null, diff: null }));
    expect(ofType(c.blocks, 'context')).toHaveLength(0);
  });

  it('when the URL is not http(s), then the context shows the label without a link', () => {
    const c = buildChangeCard(buildChange({ url: 'javascript:alert(1)' }));
    expect(contextTexts(c)).toContain(':link: View change');
  });

  it('when there is a description, then it is shown as a block quote, line by line', () => {
    expect(sectionTexts(msg)).toContain('>Adds a bounded retry around capture.\n>Retries at most 3 times with jittered backoff.');
  });

  it('when pending, then the status says it waits and shows "0 of 1 sign-off"', () => {
    expect(statusText(msg)).toBe(':hourglass_flowing_sand: Waiting for sign-off · 0 of 1 sign-off');
  });

  it('when pending, then the actions block has Approve (primary) and Reject (danger) carrying the key and round', () => {
    const actions = ofType(msg.blocks, 'actions');
    expect(actions).toHaveLength(1);
    expect(actions[0].block_id).toBe(BlockId.cardActions);
    expect(msg.blocks.at(-1)).toBe(actions[0]);
    const [approve, reject] = buttons(msg);
    expect(approve).toMatchObject({ type: 'button', action_id: ActionId.approve, style: 'primary', text: { type: 'plain_text', text: 'Approve' } });
    expect(reject).toMatchObject({ type: 'button', action_id: ActionId.reject, style: 'danger', text: { type: 'plain_text', text: 'Reject' } });
    for (const b of [approve, reject]) {
      expect(b.value).toBe('{"key":"CHG-12","round":1}');
      expect(parsePayload(changeButtonValue, b.value)).toEqual({ key: 'CHG-12', round: 1 });
    }
  });

  it('when the change is in review round 3, then the buttons carry round 3', () => {
    const [approve, reject] = buttons(buildChangeCard(buildChange({ round: 3 })));
    expect(parsePayload(changeButtonValue, approve.value)).toEqual({ key: 'CHG-12', round: 3 });
    expect(parsePayload(changeButtonValue, reject.value)).toEqual({ key: 'CHG-12', round: 3 });
  });

  it('when pending, then the block order is header, fields, reasons, review brief, context, description, divider, status, actions', () => {
    expect(msg.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'context', 'section', 'divider', 'section', 'actions']);
  });

  it('when pending, then the notification text names the key, the title and that it needs senior sign-off', () => {
    expect(msg.text).toBe('CHG-12 Retry payment capture on timeout needs senior sign-off');
    expect(cardText(change)).toBe(msg.text);
  });

  it('when showButtons is false on a pending card, then there is no actions block but the progress is still shown', () => {
    const c = buildChangeCard(change, { showButtons: false });
    expect(ofType(c.blocks, 'actions')).toHaveLength(0);
    expect(statusText(c)).toBe(':hourglass_flowing_sand: Waiting for sign-off · 0 of 1 sign-off');
  });
});

describe('buildChangeCard: progress on a 2-approval change', () => {
  it('when one of two approvals is in, then progress reads "1 of 2 sign-offs: <@U0ALICE>" and the buttons remain', () => {
    const c = buildChangeCard(buildChange({ approvals_required: 2, sign_offs: [signOff('U0ALICE')] }));
    expect(statusText(c)).toBe(':hourglass_flowing_sand: Waiting for sign-off · 1 of 2 sign-offs: <@U0ALICE>');
    expect(buttons(c).map((b) => b.action_id)).toEqual([ActionId.approve, ActionId.reject, ActionId.claim]);
  });

  it('when an approval is from an earlier round, then it no longer counts toward progress', () => {
    const c = buildChange({ approvals_required: 2, round: 2, sign_offs: [signOff('U0ALICE', 'approved', { round: 1 }), signOff('U0CAROL', 'approved', { round: 2 })] });
    expect(progressLine(c)).toBe('1 of 2 sign-offs: <@U0CAROL>');
  });

  it('when the same reviewer appears twice in a round, then they count once', () => {
    const c = buildChange({ approvals_required: 2, sign_offs: [signOff('U0ALICE'), signOff('U0ALICE')] });
    expect(progressLine(c).startsWith('1 of 2 sign-offs')).toBe(true);
  });

  it('when a rejection is among the sign-offs, then it is neither counted nor listed as an approver', () => {
    const c = buildChange({ approvals_required: 2, sign_offs: [signOff('U0BOB', 'rejected')] });
    expect(progressLine(c)).toBe('0 of 2 sign-offs');
  });
});

describe('buildChangeCard: decided changes', () => {
  const decidedAt = new Date('2026-03-02T10:15:00Z');

  it('when approved, then there are no buttons and the status names the approver and the time', () => {
    const c = buildChangeCard(buildChange({ status: 'approved', decided_at: decidedAt, sign_offs: [signOff('U0ALICE')] }));
    expect(ofType(c.blocks, 'actions')).toHaveLength(0);
    expect(statusText(c)).toBe(':white_check_mark: Approved by <@U0ALICE> at 2026-03-02 10:15 UTC');
    expect(c.text).toBe('CHG-12 Retry payment capture on timeout approved');
  });

  it('when approved by two seniors in the current round, then both are named but an earlier round is not', () => {
    const c = buildChangeCard(
      buildChange({
        status: 'approved',
        round: 2,
        approvals_required: 2,
        decided_at: decidedAt,
        sign_offs: [signOff('U0DAVE', 'approved', { round: 1 }), signOff('U0ALICE', 'approved', { round: 2 }), signOff('U0CAROL', 'approved', { round: 2 })],
      }),
    );
    expect(statusText(c)).toBe(':white_check_mark: Approved by <@U0ALICE>, <@U0CAROL> at 2026-03-02 10:15 UTC');
  });

  it('when approved with no sign-offs, then the status says it was approved on arrival', () => {
    const c = buildChangeCard(buildChange({ status: 'approved', approvals_required: 0, decided_at: CREATED_AT, risk: { level: 'low', reasons: [] } }));
    expect(statusText(c)).toBe(':white_check_mark: Approved on arrival: its risk needs no sign-off at 2026-03-02 09:00 UTC');
  });

  it('when rejected, then there are no buttons and the status names the reviewer and quotes the escaped reason', () => {
    const c = buildChangeCard(
      buildChange({ status: 'rejected', decided_at: decidedAt, sign_offs: [signOff('U0ALICE', 'rejected', { reason: `No cap on latency.\n${HOSTILE}` })] }),
    );
    expect(ofType(c.blocks, 'actions')).toHaveLength(0);
    expect(statusText(c)).toBe(`:x: Rejected by <@U0ALICE> at 2026-03-02 10:15 UTC\n>No cap on latency.\n>${HOSTILE_ESCAPED}`);
    expect(c.text).toBe('CHG-12 Retry payment capture on timeout rejected');
  });

  it('when rejected without a recorded rejection, then the status is just "Rejected" with the time', () => {
    const c = buildChangeCard(buildChange({ status: 'rejected', decided_at: decidedAt }));
    expect(statusText(c)).toBe(':x: Rejected at 2026-03-02 10:15 UTC');
  });

  const others = [
    ['expired', ':alarm_clock: Expired without sign-off', 'expired without sign-off'],
    ['cancelled', ':no_entry_sign: Cancelled by the submitter', 'cancelled by the submitter'],
    ['approved_breakglass', ':rotating_light: Approved under break-glass', 'approved under break-glass'],
  ] as const;
  for (const [status, line, text] of others) {
    it(`when ${status}, then the status says so with the time and there are no buttons even if showButtons is true`, () => {
      const c = buildChangeCard(buildChange({ status, decided_at: decidedAt, sign_offs: [signOff('U0ALICE')] }), { showButtons: true });
      expect(ofType(c.blocks, 'actions')).toHaveLength(0);
      expect(statusText(c)).toBe(`${line} at 2026-03-02 10:15 UTC`);
      expect(c.text).toBe(`CHG-12 Retry payment capture on timeout ${text}`);
    });
  }

  it('when decided without a decision time, then the status has no "at" part', () => {
    const c = buildChangeCard(buildChange({ status: 'expired', decided_at: null }));
    expect(statusText(c)).toBe(':alarm_clock: Expired without sign-off');
  });
});

describe('buildChangeCard: terraform plans', () => {
  it('when the plan destroys 7 resources, then it shows the counts, the first 5 addresses with their action and "+2 more"', () => {
    const c = buildChangeCard(buildChange({ infra: infra() }));
    const t = sectionTexts(c).find((s) => s.startsWith(':building_construction:'));
    expect(t).toBe(
      ':building_construction: *Terraform:* 2 to create, 1 to update, 7 to destroy\n' +
        '`aws_db_instance.orders_1` (delete), `aws_db_instance.orders_2` (replace), `aws_db_instance.orders_3` (delete), ' +
        '`aws_db_instance.orders_4` (replace), `aws_db_instance.orders_5` (delete), +2 more',
    );
    expect(t).not.toContain('orders_6');
    expect(t).not.toContain('orders_7');
  });

  it('when the plan lists fewer destroyed resources than it destroys (capped), then "more" counts the whole difference', () => {
    const c = buildChangeCard(buildChange({ infra: infra({ deletes: 40, replaces: 0, destroys: 40, destroyed: destroyed(3) }) }));
    const t = sectionTexts(c).find((s) => s.startsWith(':building_construction:'))!;
    expect(t).toContain('40 to destroy');
    expect(t.endsWith('`aws_db_instance.orders_3` (delete), +37 more')).toBe(true);
  });

  it('when the plan destroys exactly the listed resources, then there is no "more"', () => {
    const c = buildChangeCard(buildChange({ infra: infra({ deletes: 2, replaces: 0, destroys: 2, destroyed: destroyed(2) }) }));
    const t = sectionTexts(c).find((s) => s.startsWith(':building_construction:'))!;
    expect(t).not.toContain('more');
    expect(t.split('\n')[1]).toBe('`aws_db_instance.orders_1` (delete), `aws_db_instance.orders_2` (replace)');
  });

  it('when the plan destroys nothing, then only the counts line is shown', () => {
    const c = buildChangeCard(buildChange({ infra: infra({ creates: 4, updates: 0, deletes: 0, replaces: 0, destroys: 0, destroyed: [] }) }));
    expect(sectionTexts(c)).toContain(':building_construction: *Terraform:* 4 to create, 0 to update, 0 to destroy');
  });

  it('when there is no plan, then there is no terraform section', () => {
    expect(sectionTexts(buildChangeCard(buildChange())).some((s) => s.includes('Terraform'))).toBe(false);
  });
});

describe('authorRef', () => {
  it('when the author has a Slack id, then it is a mention', () => {
    expect(authorRef(buildChange())).toBe('<@U0JUNIOR>');
  });

  it('when the author has no Slack id, then it is their escaped name, else @github', () => {
    expect(authorRef(buildChange({ author: { github: 'jdoe', name: 'Jordan <Doe> & co', level: 'junior', bot: false } }))).toBe('Jordan &lt;Doe&gt; &amp; co');
    expect(authorRef(buildChange({ author: { github: 'jdoe', level: 'unknown', bot: false } }))).toBe('@jdoe');
    expect(authorRef(buildChange({ author: { level: 'unknown', bot: false } }))).toBe('unknown author');
  });

  it('when the author has no Slack id, then the card shows the name in the Author field', () => {
    const c = buildChangeCard(buildChange({ author: { github: 'dependabot[bot]', level: 'unknown', bot: true } }));
    expect(fields(c)['*Author*']).toBe('@dependabot[bot] (unknown)');
  });
});

// ---------------------------------------------------------------------------------------------
// Escaping of everything that comes from outside
// ---------------------------------------------------------------------------------------------

describe('escaping outside text', () => {
  const hostile = buildChange({
    title: HOSTILE,
    description: `${HOSTILE}\nsecond ${HOSTILE}`,
    services: [HOSTILE, 'checkout'],
    environment: HOSTILE,
    team: HOSTILE,
    author: { github: 'jdoe', name: HOSTILE, level: 'junior', bot: false },
    ai: { assisted: true, tool: HOSTILE, share: 0.6, reasons: [HOSTILE] },
    risk: { level: 'high', reasons: [reason(HOSTILE, [HOSTILE, 'author is junior'])] },
    infra: infra({ destroyed: destroyed(7, () => HOSTILE) }),
  });
  const rejected = { ...hostile, status: 'rejected' as const, decided_at: new Date('2026-03-02T10:15:00Z'), sign_offs: [signOff('U0ALICE', 'rejected', { reason: HOSTILE })] };

  it('when a pending card is built from hostile text, then no mrkdwn text or notification text contains a live token', () => {
    const c = buildChangeCard(hostile);
    const texts = mrkdwnTexts(c.blocks);
    expect(texts.length).toBeGreaterThanOrEqual(8);
    for (const t of texts) expectInert(t);
    expectInert(c.text);
  });

  it('when a pending card is built from hostile text, then title, description, reason, service, environment, author, AI tool and address appear escaped', () => {
    const c = buildChangeCard(hostile);
    const f = fields(c);
    expect(f['*Author*']).toBe(`${HOSTILE_ESCAPED} (junior)`);
    expect(f['*Services*']).toBe(`${HOSTILE_ESCAPED}, checkout`);
    expect(f['*Environment*']).toBe(HOSTILE_ESCAPED);
    expect(reasonsText(c)).toBe(`*Why it needs review*\n• *${HOSTILE_ESCAPED}*: ${HOSTILE_ESCAPED}; author is junior`);
    expect(contextTexts(c)[0]).toBe(`:robot_face: *AI-assisted* · ${HOSTILE_ESCAPED} · 60% AI-generated`);
    expect(sectionTexts(c)).toContain(`>${HOSTILE_ESCAPED}\n>second ${HOSTILE_ESCAPED}`);
    expect(sectionTexts(c).find((s) => s.startsWith(':building_construction:'))).toContain(`\`${HOSTILE_ESCAPED}\` (delete)`);
    expect(c.text).toBe(`CHG-12 ${HOSTILE_ESCAPED} needs senior sign-off`);
  });

  it('when the title is hostile, then the header may hold it literally because it is plain_text, which Slack never expands', () => {
    const h = header(buildChangeCard(hostile));
    expect(h.text.type).toBe('plain_text');
    expect(h.text.text).toBe(`CHG-12 · ${HOSTILE}`);
  });

  it('when a rejected card quotes a hostile reason, then it is escaped and inert', () => {
    const c = buildChangeCard(rejected);
    for (const t of mrkdwnTexts(c.blocks)) expectInert(t);
    expect(statusText(c)).toContain(`\n>${HOSTILE_ESCAPED}`);
    expectInert(c.text);
  });

  it('when notices are built from hostile text, then thread replies and DMs are inert and show the text escaped', () => {
    const reply = signOffThreadReply(rejected, rejected.sign_offs[0]);
    const dms = [
      authorDecisionDm(rejected, 'U0ALICE', HOSTILE),
      authorDecisionDm({ ...hostile, status: 'approved', sign_offs: [signOff('U0ALICE')] }, 'U0ALICE', null),
      authorDecisionDm({ ...hostile, status: 'expired' }, 'system', null),
    ];
    for (const t of [reply, ...dms]) {
      expect(t).not.toBeNull();
      expectInert(t!);
      expect(t).toContain(HOSTILE_ESCAPED);
    }
  });

  it('when the pending list and help are built from hostile text, then every mrkdwn text is inert', () => {
    const list = buildPendingList([hostile], new Date('2026-03-02T10:00:00Z'), new Map([[HOSTILE, new Set(['U0ALICE'])]]));
    const help = buildChangeHelp(HOSTILE);
    for (const m of [list, help]) {
      for (const t of mrkdwnTexts(m.blocks)) expectInert(t);
      expectInert(m.text);
    }
    expect(mrkdwnTexts(list.blocks).join('\n')).toContain(HOSTILE_ESCAPED);
  });
});

// ---------------------------------------------------------------------------------------------
// Slack limits
// ---------------------------------------------------------------------------------------------

function expectWithinSlackLimits(msg: SlackMessage): void {
  expect(msg.blocks.length).toBeLessThanOrEqual(50);
  expect(header(msg).text.text.length).toBeLessThanOrEqual(150);
  for (const b of ofType(msg.blocks, 'section')) {
    if (b.text) {
      expect(b.text.text.length).toBeGreaterThanOrEqual(1);
      expect(b.text.text.length).toBeLessThanOrEqual(3000);
    }
    expect((b.fields ?? []).length).toBeLessThanOrEqual(10);
    for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
  }
  for (const b of ofType(msg.blocks, 'context')) {
    expect(b.elements.length).toBeLessThanOrEqual(10);
    for (const e of b.elements) if (e.type === 'mrkdwn') expect(e.text.length).toBeLessThanOrEqual(3000);
  }
  for (const b of ofType(msg.blocks, 'actions')) {
    for (const e of b.elements) {
      if (e.type !== 'button') continue;
      expect(e.text.text.length).toBeLessThanOrEqual(75);
      expect((e.value ?? '').length).toBeLessThanOrEqual(2000);
      expect(e.action_id!.length).toBeLessThanOrEqual(255);
    }
  }
  for (const t of mrkdwnTexts(msg.blocks)) {
    expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/);
    expect(t).not.toMatch(/<[^>]*$/);
    expect(t).not.toMatch(LONE_SURROGATE);
  }
}

describe('Slack limits', () => {
  it('when the title is 300 characters, then the header is at most 150 characters and ends with an ellipsis', () => {
    const title = 'T'.repeat(300);
    const h = header(buildChangeCard(buildChange({ title })));
    expect(h.text.text.length).toBeLessThanOrEqual(150);
    expect(h.text.text.startsWith('CHG-12 · TTT')).toBe(true);
    expect(h.text.text.endsWith('…')).toBe(true);
  });

  it('when the 150-character header cut falls inside an emoji, then the header does not end with half a surrogate pair', () => {
    // "CHG-12 · " is 9 UTF-16 units; 139 more puts the high surrogate of the first emoji at index 148.
    const title = `${'x'.repeat(139)}${'😀'.repeat(20)}`;
    const h = header(buildChangeCard(buildChange({ title })));
    expect(h.text.text.length).toBeLessThanOrEqual(150);
    expect(h.text.text.endsWith('…')).toBe(true);
    expect(h.text.text).not.toMatch(LONE_SURROGATE);
  });

  const huge = (status: Change['status']) =>
    buildChange({
      key: 'CHG-2147483647',
      status,
      title: `${'&<>'.repeat(50)}${'long title '.repeat(30)}`,
      description: `${'line with & and <tags>\n'.repeat(400)}`.slice(0, 10_000),
      services: Array.from({ length: 200 }, (_, i) => `service-${i}-${'&'.repeat(10)}`),
      environment: 'production'.repeat(20),
      author: { github: 'x'.repeat(300), name: '<&>'.repeat(100), level: 'junior', bot: false },
      ai: { assisted: true, tool: '&'.repeat(200), share: 0.999, reasons: [] },
      risk: {
        level: 'critical',
        reasons: Array.from({ length: 100 }, (_, i) => reason(`rule-${i}-${'&'.repeat(50)}`, Array.from({ length: 5 }, (__, j) => `fact ${j} ${'<x> & '.repeat(60)}`))),
      },
      infra: infra({ deletes: 500, replaces: 0, destroys: 500, destroyed: destroyed(100, (i) => `module.${'&'.repeat(150)}.res_${i}`) }),
      approvals_required: 3,
      round: 999_999,
      decided_at: status === 'pending' ? null : new Date('2026-03-02T10:15:00Z'),
      sign_offs:
        status === 'rejected'
          ? [signOff('U0ALICE', 'rejected', { round: 999_999, reason: `${'why <!channel> & '.repeat(200)}\n`.repeat(20).slice(0, 10_000) })]
          : Array.from({ length: 30 }, (_, i) => signOff(`U0SENIOR${i}`, 'approved', { round: 999_999 })),
    });

  for (const status of ['pending', 'rejected', 'approved'] as const) {
    it(`when a ${status} card has a 10k description, 100 long reasons and 200 services, then every block stays within Slack limits`, () => {
      const c = buildChangeCard(huge(status));
      expectWithinSlackLimits(c);
      expect(reasonsText(c).endsWith('…')).toBe(true);
      if (status === 'pending') expect(buttons(c)).toHaveLength(3);
    });
  }

  it('when a pending card is huge, then the buttons still parse back to the key and round', () => {
    const [approve] = buttons(buildChangeCard(huge('pending')));
    expect(parsePayload(changeButtonValue, approve.value)).toEqual({ key: 'CHG-2147483647', round: 999_999 });
  });

  it('when the description is 10k characters, then its quote is cut with an ellipsis', () => {
    const c = buildChangeCard(buildChange({ description: 'd'.repeat(10_000) }));
    const quote = sectionTexts(c).find((s) => s.startsWith('>'))!;
    expect(quote.length).toBeLessThanOrEqual(601);
    expect(quote.endsWith('…')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Reject modal
// ---------------------------------------------------------------------------------------------

describe('buildRejectModal', () => {
  /** The view as a modal, with its blocks as known blocks (a View's blocks also admit the generic `Block`). */
  function modal(v: View): ModalView & { blocks: KnownBlock[] } {
    expect(v.type).toBe('modal');
    return v as ModalView & { blocks: KnownBlock[] };
  }

  const meta = { key: 'CHG-12', round: 2, channel: 'C0CHANGES' };
  const view = modal(buildRejectModal(meta, 'CHG-12 · Retry payment capture on timeout'));

  it('when built, then it is a modal with the reject callback id, "Reject"/"Cancel" buttons and a title naming the change', () => {
    expect(view.callback_id).toBe(CallbackId.rejectModal);
    expect(view.title).toEqual({ type: 'plain_text', text: 'Reject CHG-12' });
    expect(view.submit).toEqual({ type: 'plain_text', text: 'Reject' });
    expect(view.close).toEqual({ type: 'plain_text', text: 'Cancel' });
  });

  it('when built, then it shows the title as plain text and has a required multiline reason input with the ids from ids.ts', () => {
    expect(view.blocks).toHaveLength(2);
    expect(view.blocks[0]).toEqual({ type: 'section', text: { type: 'plain_text', text: 'CHG-12 · Retry payment capture on timeout' } });
    const inputs = ofType(view.blocks, 'input');
    expect(inputs).toHaveLength(1);
    const input = inputs[0] as unknown as { block_id: string; label: { type: string }; element: unknown; optional?: boolean };
    expect(view.blocks[1]).toBe(input);
    expect(input.block_id).toBe(BlockId.rejectReason);
    expect(input.label.type).toBe('plain_text');
    expect(input.element).toMatchObject({ type: 'plain_text_input', action_id: InputId.rejectReason, multiline: true, min_length: 1, max_length: 2000 });
    expect(input.optional).toBeUndefined();
  });

  it('when built, then private_metadata parses back to the same key, round and channel', () => {
    expect(parsePayload(rejectModalMetadata, view.private_metadata)).toEqual(meta);
    const nullChannel = buildRejectModal({ key: 'CHG-7', round: 1, channel: null }, 't');
    expect(parsePayload(rejectModalMetadata, nullChannel.private_metadata)).toEqual({ key: 'CHG-7', round: 1, channel: null });
  });

  it('when the key is long, then the title stays within 24 characters', () => {
    for (const key of ['CHG-123456789', 'CHG-2147483647', 'CHG-12345678901234567890']) {
      const v = modal(buildRejectModal({ key, round: 1, channel: null }, 'title'));
      expect(v.title.text.length, key).toBeLessThanOrEqual(24);
      expect(parsePayload(rejectModalMetadata, v.private_metadata)?.key).toBe(key);
    }
    expect(modal(buildRejectModal({ key: 'CHG-123456789', round: 1, channel: null }, 't')).title.text).toBe('Reject CHG-123456789');
  });

  it('when the change title is very long, then the section text stays within 3000 characters', () => {
    const v = modal(buildRejectModal(meta, 'x'.repeat(10_000)));
    const [s] = ofType(v.blocks, 'section');
    expect(s.text!.text.length).toBeLessThanOrEqual(3000);
    expect(s.text!.text.endsWith('…')).toBe(true);
    expect(v.private_metadata!.length).toBeLessThanOrEqual(3000);
  });
});

// ---------------------------------------------------------------------------------------------
// Thread replies and author DMs
// ---------------------------------------------------------------------------------------------

describe('signOffThreadReply', () => {
  it('when a senior approves the only required sign-off, then the reply names them and shows "1 of 1 sign-off"', () => {
    const s = signOff('U0ALICE');
    expect(signOffThreadReply(buildChange({ sign_offs: [s] }), s)).toBe(':white_check_mark: <@U0ALICE> signed off CHG-12 (1 of 1 sign-off)');
  });

  it('when a senior gives the first of two approvals, then the reply shows the count without the approver list', () => {
    const s = signOff('U0ALICE');
    expect(signOffThreadReply(buildChange({ approvals_required: 2, sign_offs: [s] }), s)).toBe(':white_check_mark: <@U0ALICE> signed off CHG-12 (1 of 2 sign-offs)');
  });

  it('when a senior rejects, then the reply names them and gives the escaped reason', () => {
    const s = signOff('U0ALICE', 'rejected', { reason: 'Unsafe: <!here> & retries' });
    expect(signOffThreadReply(buildChange({ status: 'rejected', sign_offs: [s] }), s)).toBe(':x: <@U0ALICE> rejected CHG-12: Unsafe: &lt;!here&gt; &amp; retries');
  });

  it('when a rejection reason is very long, then the reply is cut with an ellipsis', () => {
    const s = signOff('U0ALICE', 'rejected', { reason: 'r'.repeat(5000) });
    const t = signOffThreadReply(buildChange({ status: 'rejected', sign_offs: [s] }), s);
    expect(t.length).toBeLessThan(1600);
    expect(t.endsWith('…')).toBe(true);
  });
});

describe('authorDecisionDm', () => {
  it('when approved, then the DM names the approvers of the current round and says the gate is open', () => {
    const c = buildChange({ status: 'approved', round: 2, approvals_required: 2, sign_offs: [signOff('U0DAVE', 'approved', { round: 1 }), signOff('U0ALICE', 'approved', { round: 2 }), signOff('U0CAROL', 'approved', { round: 2 })] });
    expect(authorDecisionDm(c, 'U0CAROL', null)).toBe(
      ':white_check_mark: *CHG-12* Retry payment capture on timeout was signed off by <@U0ALICE>, <@U0CAROL>. The deploy gate is open.',
    );
  });

  it('when rejected, then the DM names the reviewer, quotes the escaped reason line by line and advises resubmitting', () => {
    const c = buildChange({ status: 'rejected', sign_offs: [signOff('U0ALICE', 'rejected')] });
    const dm = authorDecisionDm(c, 'U0ALICE', 'Missing a cap.\nSee <https://evil|docs> & retry');
    expect(dm).toBe(
      ':x: *CHG-12* Retry payment capture on timeout was rejected by <@U0ALICE>.\n' +
        '>Missing a cap.\n>See &lt;https://evil|docs&gt; &amp; retry\n' +
        "Address the feedback and submit a new change, or reply to the reviewer in the card's thread.",
    );
  });

  it('when rejected without a reason, then the DM says no reason was given', () => {
    const dm = authorDecisionDm(buildChange({ status: 'rejected' }), 'U0ALICE', null);
    expect(dm).toContain('\n>No reason given.\n');
  });

  it('when expired, then the DM says the gate stays closed and asks to resubmit or ask the team seniors', () => {
    expect(authorDecisionDm(buildChange({ status: 'expired' }), 'system', null)).toBe(
      ':alarm_clock: *CHG-12* Retry payment capture on timeout expired without a sign-off, so the gate stays closed. Resubmit it, or ask the payments seniors to look at it.',
    );
  });

  for (const status of ['pending', 'cancelled'] as const) {
    it(`when ${status}, then there is no DM`, () => {
      expect(authorDecisionDm(buildChange({ status }), 'U0ALICE', 'whatever')).toBeNull();
    });
  }
});

// ---------------------------------------------------------------------------------------------
// /change list and /change help
// ---------------------------------------------------------------------------------------------

describe('waitingOn', () => {
  const eligible = ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0JUNIOR'];

  it('when nobody has signed, then it waits on every eligible senior except the author', () => {
    expect(waitingOn(buildChange(), eligible)).toEqual(['U0ALICE', 'U0BOB', 'U0CAROL']);
  });

  it('when seniors approved or rejected in this round, then they are no longer waited on', () => {
    const c = buildChange({ approvals_required: 2, sign_offs: [signOff('U0ALICE'), signOff('U0BOB', 'rejected')] });
    expect(waitingOn(c, new Set(eligible))).toEqual(['U0CAROL']);
  });

  it('when a senior signed in an earlier round, then they are waited on again', () => {
    const c = buildChange({ round: 2, sign_offs: [signOff('U0ALICE', 'approved', { round: 1 })] });
    expect(waitingOn(c, eligible)).toEqual(['U0ALICE', 'U0BOB', 'U0CAROL']);
  });
});

describe('buildPendingList', () => {
  const now = new Date('2026-03-04T13:30:00Z');
  const eligibleByTeam = new Map([['payments', new Set(['U0ALICE', 'U0BOB', 'U0CAROL', 'U0JUNIOR'])]]);
  const oldest = buildChange({
    id: 7,
    key: 'CHG-7',
    title: 'Drop <legacy> orders table',
    created_at: new Date('2026-03-01T08:00:00Z'),
    approvals_required: 2,
    sign_offs: [signOff('U0ALICE')],
    risk: { level: 'critical', reasons: [] },
  });
  const middle = buildChange();
  const newest = buildChange({ id: 14, key: 'CHG-14', team: 'search', title: 'Tune ranking', created_at: new Date('2026-03-02T12:00:00Z'), risk: { level: 'medium', reasons: [] } });

  it('when three changes wait, then the list has a count heading and one line each, in the given oldest-first order, with age, risk and who it waits on', () => {
    const msg = buildPendingList([oldest, middle, newest], now, eligibleByTeam);
    expect(msg.text).toBe('3 change(s) waiting for sign-off');
    expect(msg.blocks).toHaveLength(2);
    expect(sectionTexts(msg)[0]).toBe('*3 changes waiting for sign-off* (oldest first)');
    expect(sectionTexts(msg)[1].split('\n')).toEqual([
      ':red_circle: *CHG-7* Drop &lt;legacy&gt; orders table · 3d 5h old · critical · needs 1 more from <@U0BOB> <@U0CAROL>',
      ':large_orange_circle: *CHG-12* Retry payment capture on timeout · 2d 4h old · high · needs 1 more from <@U0ALICE> <@U0BOB> <@U0CAROL>',
      ':large_yellow_circle: *CHG-14* Tune ranking · 2d 1h old · medium · needs 1 more from nobody eligible',
    ]);
  });

  it('when one change waits, then the heading is singular', () => {
    const msg = buildPendingList([middle], now, eligibleByTeam);
    expect(sectionTexts(msg)[0]).toBe('*1 change waiting for sign-off* (oldest first)');
  });

  it('when nothing waits, then it says so in text and in one block', () => {
    const msg = buildPendingList([], now, eligibleByTeam);
    expect(msg.text).toBe('Nothing is waiting for sign-off.');
    expect(msg.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: ':tada: Nothing is waiting for sign-off.' } }]);
  });

  it('when 600 changes with long titles wait, then the list stays within 50 blocks of at most 3000 characters', () => {
    const many = Array.from({ length: 600 }, (_, i) => buildChange({ id: i + 1, key: `CHG-${i + 1}`, title: `${'&'.repeat(40)} ${'t'.repeat(200)}` }));
    const msg = buildPendingList(many, now, eligibleByTeam);
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
    for (const t of sectionTexts(msg)) {
      expect(t.length).toBeLessThanOrEqual(3000);
      expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
    expect(sectionTexts(msg)[0]).toBe('*600 changes waiting for sign-off* (oldest first)');
  });
});

describe('buildChangeHelp', () => {
  it('when asked for help, then it lists /change list, /change CHG-12 and /change help and no apology', () => {
    const msg = buildChangeHelp();
    expect(msg.text).toContain('`/change list`');
    expect(msg.text).toContain('`/change CHG-12`');
    expect(msg.text).toContain('`/change help`');
    expect(msg.text).not.toContain('Sorry');
    expect(msg.blocks).toHaveLength(1);
    expect(sectionTexts(msg)[0]).toBe(msg.text);
  });

  it('when the command was not understood, then it echoes the escaped text before the help', () => {
    const msg = buildChangeHelp('approve <!channel> & go');
    expect(msg.text.startsWith('Sorry, I did not understand `approve &lt;!channel&gt; &amp; go`.\n')).toBe(true);
    expect(msg.text).toContain('`/change list`');
    expect(sectionTexts(msg)[0]).toBe(msg.text);
  });

  it('when the not-understood text is very long, then the echo is cut', () => {
    const msg = buildChangeHelp('x'.repeat(5000));
    expect(msg.text.split('\n')[0].length).toBeLessThan(250);
  });
});

// ---------------------------------------------------------------------------------------------
// parsePayload
// ---------------------------------------------------------------------------------------------

describe('parsePayload', () => {
  it('when the raw value is missing, empty or not JSON, then it is null', () => {
    for (const raw of [undefined, '', 'not json', '{', '{"key":"CHG-12",', "{'key':'CHG-12','round':1}"]) {
      expect(parsePayload(changeButtonValue, raw), String(raw)).toBeNull();
    }
  });

  it('when the JSON has the wrong shape, then it is null', () => {
    const bad = [
      'null',
      '1',
      '"CHG-12"',
      '[]',
      '[{"key":"CHG-12","round":1}]',
      '{}',
      '{"key":"CHG-12"}',
      '{"round":1}',
      '{"key":"chg-12","round":1}',
      '{"key":"CHG-","round":1}',
      '{"key":"CHG-abc","round":1}',
      '{"key":" CHG-12","round":1}',
      '{"key":"CHG-12","round":0}',
      '{"key":"CHG-12","round":-1}',
      '{"key":"CHG-12","round":1.5}',
      '{"key":"CHG-12","round":"1"}',
      '{"key":12,"round":1}',
    ];
    for (const raw of bad) expect(parsePayload(changeButtonValue, raw), raw).toBeNull();
  });

  it('when a button value is valid, then it parses to key and round, dropping unknown keys', () => {
    expect(parsePayload(changeButtonValue, '{"key":"CHG-12","round":1}')).toEqual({ key: 'CHG-12', round: 1 });
    expect(parsePayload(changeButtonValue, '{"round":4,"key":"CHG-999","extra":"x"}')).toEqual({ key: 'CHG-999', round: 4 });
  });

  it('when modal metadata lacks the channel or has a non-string channel, then it is null; null and string channels parse', () => {
    expect(parsePayload(rejectModalMetadata, '{"key":"CHG-12","round":1}')).toBeNull();
    expect(parsePayload(rejectModalMetadata, '{"key":"CHG-12","round":1,"channel":42}')).toBeNull();
    expect(parsePayload(rejectModalMetadata, '{"key":"CHG-12","round":1,"channel":null}')).toEqual({ key: 'CHG-12', round: 1, channel: null });
    expect(parsePayload(rejectModalMetadata, '{"key":"CHG-12","round":2,"channel":"C0CHANGES"}')).toEqual({ key: 'CHG-12', round: 2, channel: 'C0CHANGES' });
  });

  it('when a button value is fed to the modal schema or metadata to the button schema, then only the superset parses', () => {
    const button = JSON.stringify({ key: 'CHG-12', round: 1 });
    const meta = JSON.stringify({ key: 'CHG-12', round: 1, channel: 'C0X' });
    expect(parsePayload(rejectModalMetadata, button)).toBeNull();
    expect(parsePayload(changeButtonValue, meta)).toEqual({ key: 'CHG-12', round: 1 });
  });
});
