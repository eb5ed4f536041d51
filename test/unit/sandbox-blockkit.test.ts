import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { escapeHtml, renderBlocks, renderMessage, renderMrkdwn, renderPlainText, type RenderContext } from '../../src/sandbox/public/blockkit.js';
import { buildChangeCard } from '../../src/slack/views/change-card.ts';
import { buildChangeHelp } from '../../src/slack/views/change-list.ts';
import { buildIncidentHelp } from '../../src/slack/views/incident-notices.ts';
import { buildRejectModal } from '../../src/slack/views/reject-modal.ts';
import { buildChange } from '../factories/domain-change.ts';

const ctx: RenderContext = {
  userName: (id) => ({ U0ALICE: 'Alice Ng', U0BOB: 'Bob <b>Evil</b>' })[id],
  channelName: (id) => ({ C0PAYSEN: 'payments-seniors' })[id],
};

// ---------------------------------------------------------------------------------------------
// A small markup checker: every `<` in the output must open or close a tag we allow, with only the
// attributes we allow, double-quoted; text between tags holds no raw `<`, `>`, quotes or bare `&`.
// ---------------------------------------------------------------------------------------------

const MRKDWN_TAGS: Record<string, string[]> = {
  b: [], i: [], s: [], code: [], pre: [], blockquote: [], br: [],
  span: ['class'],
  a: ['href', 'target', 'rel'],
};
const BLOCK_TAGS: Record<string, string[]> = {
  ...MRKDWN_TAGS,
  div: ['class', 'data-block-id', 'data-error-for'],
  hr: ['class'],
  button: ['type', 'class', 'data-action-id', 'data-block-id', 'data-value', 'data-url'],
  label: ['class', 'for'],
  textarea: ['class', 'rows', 'data-block-id', 'data-action-id', 'id', 'data-required', 'placeholder', 'maxlength'],
  input: ['type', 'class', 'data-block-id', 'data-action-id', 'id', 'data-required', 'placeholder', 'maxlength', 'value'],
  select: ['class', 'data-block-id', 'data-action-id', 'id', 'data-required'],
  option: ['value', 'selected'],
};
const TAG_RE = /<(\/?)([a-z0-9]+)((?:\s+[a-z-]+(?:="[^"<>]*")?)*)\s*>/g;

/** Checks the markup and returns its tags (name + attributes, values decoded) for further assertions. */
function checkMarkup(html: string, allowed: Record<string, string[]>) {
  const tags = [...html.matchAll(TAG_RE)].map((m) => ({
    closing: m[1] === '/',
    name: m[2],
    attrs: Object.fromEntries([...m[3].matchAll(/([a-z-]+)(?:="([^"]*)")?/g)].map((a) => [a[1], decode(a[2] ?? '')])),
  }));
  for (const t of tags) {
    expect(Object.keys(allowed), `tag <${t.name}> in ${html}`).toContain(t.name);
    for (const [name, value] of Object.entries(t.attrs)) {
      expect(allowed[t.name], `attribute ${name} on <${t.name}> in ${html}`).toContain(name);
      if (name === 'href') expect(value).toMatch(/^(https?:\/\/|mailto:)/i);
    }
  }
  const text = html.replace(TAG_RE, '');
  expect(text, `raw markup characters outside tags in ${html}`).not.toMatch(/[<>"']/);
  expect(text, `a bare & in ${html}`).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
  return tags;
}

function decode(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

/** The visible text of rendered HTML (tags dropped, entities decoded). */
const visible = (html: string) => decode(html.replace(/<br>/g, '\n').replace(TAG_RE, ''));

const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='alert(1)",
  '<img src=x onerror=alert(1)//',
  '&lt;script&gt;alert(1)&lt;/script&gt;',
  '<javascript:alert(1)|click me>',
  '<https://ok.example/"onclick="alert(1)|x>',
  '</div></button><script>',
];

function expectInert(html: string) {
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/<img/i);
  expect(html).not.toMatch(/href="\s*javascript:/i);
  // No event-handler attribute in any tag: with the (escaped, quoted) values taken out, no `on…=` is left.
  // (Hostile text such as `onerror=` may still appear, inert, as visible text or inside a quoted value.)
  for (const m of html.matchAll(/<[a-z][^>]*>/gi)) expect(m[0].replace(/="[^"]*"/g, '=""')).not.toMatch(/\son[a-z]+=/i);
  const outsideTags = html.replace(TAG_RE, '');
  expect(outsideTags).not.toMatch(/[<>"]/);
}

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters and tolerates non-strings', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(escapeHtml(undefined)).toBe('');
    expect(escapeHtml(42)).toBe('42');
  });
});

describe('renderMrkdwn: Slack tokens', () => {
  it('renders user mentions with names from the context, else the id', () => {
    expect(renderMrkdwn('hi <@U0ALICE>', ctx)).toBe('hi <span class="mention">@Alice Ng</span>');
    expect(renderMrkdwn('<@U0NOBODY>', ctx)).toBe('<span class="mention">@U0NOBODY</span>');
    expect(renderMrkdwn('<@U0ALICE>')).toBe('<span class="mention">@U0ALICE</span>');
  });

  it('escapes names that come from the context', () => {
    const html = renderMrkdwn('<@U0BOB>', ctx);
    expect(html).toBe('<span class="mention">@Bob &lt;b&gt;Evil&lt;/b&gt;</span>');
  });

  it('renders channel links by name, from the context or the label', () => {
    expect(renderMrkdwn('see <#C0PAYSEN>', ctx)).toBe('see <span class="channel-ref">#payments-seniors</span>');
    expect(renderMrkdwn('<#C0OTHER|random>', ctx)).toBe('<span class="channel-ref">#random</span>');
    expect(visible(renderMrkdwn('<#C0OTHER>', ctx))).toBe('#C0OTHER');
  });

  it('renders <!channel>, <!here> and <!everyone> tokens as mention labels', () => {
    expect(renderMrkdwn('<!channel> look', ctx)).toBe('<span class="mention">@channel</span> look');
    expect(renderMrkdwn('<!here>', ctx)).toBe('<span class="mention">@here</span>');
    expect(renderMrkdwn('<!everyone>', ctx)).toBe('<span class="mention">@everyone</span>');
  });

  it('renders subteams and dates', () => {
    expect(visible(renderMrkdwn('<!subteam^S0SENIORS>', ctx))).toBe('@S0SENIORS');
    expect(visible(renderMrkdwn('<!subteam^S0SENIORS|@payments-seniors>', ctx))).toBe('@payments-seniors');
    expect(renderMrkdwn('<!date^1700000000^{date_short}|Nov 14, 2023>', ctx)).toBe('Nov 14, 2023');
  });

  it('shows a Slack-escaped &lt;!channel&gt; as the visible text <!channel>, never a mention', () => {
    const html = renderMrkdwn('Fix &lt;!channel&gt;', ctx);
    expect(html).toBe('Fix &lt;!channel&gt;');
    expect(html).not.toContain('mention');
    expect(visible(html)).toBe('Fix <!channel>');
    // An escaped link or mention stays text too.
    expect(renderMrkdwn('&lt;https://evil.example|docs&gt; &lt;@U0ALICE&gt;', ctx)).toBe('&lt;https://evil.example|docs&gt; &lt;@U0ALICE&gt;');
  });

  it('decodes &amp; once, so &amp;lt; shows as the text &lt;', () => {
    expect(visible(renderMrkdwn('a &amp; b &amp;lt;', ctx))).toBe('a & b &lt;');
  });

  it('renders links with and without labels, escaping both', () => {
    expect(renderMrkdwn('<https://example.com/pr/42|View change>', ctx)).toBe(
      '<a href="https://example.com/pr/42" target="_blank" rel="noopener noreferrer">View change</a>',
    );
    expect(renderMrkdwn('<http://example.com>', ctx)).toBe('<a href="http://example.com" target="_blank" rel="noopener noreferrer">http://example.com</a>');
    expect(renderMrkdwn('<mailto:sec@example.com|mail us>', ctx)).toContain('href="mailto:sec@example.com"');
    const tags = checkMarkup(renderMrkdwn('<https://x.example/?a=1&amp;b=2|Tom &amp; Jerry "quoted">', ctx), MRKDWN_TAGS);
    expect(tags[0].attrs.href).toBe('https://x.example/?a=1&b=2');
  });

  it('does not turn javascript:, data: or other schemes into links', () => {
    for (const t of ['<javascript:alert(1)|click>', '<javascript:alert(1)>', '<JavaScript:alert(1)|x>', '<data:text/html,<b>|x>', '<vbscript:x|y>', '<ftp://x|y>']) {
      const html = renderMrkdwn(t, ctx);
      expect(html, t).not.toContain('<a');
      expect(html, t).not.toContain('href');
      checkMarkup(html, MRKDWN_TAGS);
    }
    expect(visible(renderMrkdwn('<javascript:alert(1)|click>', ctx))).toBe('<javascript:alert(1)|click>');
  });
});

describe('renderMrkdwn: formatting', () => {
  it('renders bold, italic, strike and inline code', () => {
    expect(renderMrkdwn('*bold* _italic_ ~strike~ `code`', ctx)).toBe('<b>bold</b> <i>italic</i> <s>strike</s> <code>code</code>');
  });

  it('leaves markers inside words and code alone', () => {
    expect(renderMrkdwn('snake_case_name and 2*3*4', ctx)).toBe('snake_case_name and 2*3*4');
    expect(renderMrkdwn('`*not bold* <b>`', ctx)).toBe('<code>*not bold* &lt;b&gt;</code>');
  });

  it('formats around tokens', () => {
    expect(renderMrkdwn('*<@U0ALICE>* approved', ctx)).toBe('<b><span class="mention">@Alice Ng</span></b> approved');
  });

  it('renders code blocks without formatting or emoji inside', () => {
    expect(renderMrkdwn('before\n```const a = *b*;\n<x> :tada:```\nafter', ctx)).toBe(
      'before<pre>const a = *b*;\n&lt;x&gt; :tada:</pre>after',
    );
  });

  it('renders lines starting with > as a blockquote, but not an escaped &gt;', () => {
    expect(renderMrkdwn('Reason:\n>too *risky*\n>no tests\nthanks', ctx)).toBe(
      'Reason:<blockquote>too <b>risky</b><br>no tests</blockquote>thanks', // a blockquote breaks the line itself
    );
    expect(renderMrkdwn('&gt; not a quote', ctx)).toBe('&gt; not a quote');
  });

  it('turns newlines into <br>', () => {
    expect(renderMrkdwn('*Author*\n<@U0ALICE> (senior)', ctx)).toBe('<b>Author</b><br><span class="mention">@Alice Ng</span> (senior)');
  });

  it('maps known emoji and leaves unknown ones', () => {
    expect(renderMrkdwn(':white_check_mark: :x: :hourglass_flowing_sand: :robot_face: :red_circle: :tada: :no_entry:', ctx)).toBe('✅ ❌ ⏳ 🤖 🔴 🎉 ⛔');
    expect(renderMrkdwn(':large_green_circle: :large_yellow_circle: :large_orange_circle: :building_construction:', ctx)).toBe('🟢 🟡 🟠 🏗️');
    expect(renderMrkdwn(':not_an_emoji: :rotating_light:', ctx)).toBe(':not_an_emoji: 🚨');
  });
});

describe('renderMrkdwn: Slack rules for styles and code', () => {
  it('when bold, italic or strike wrap a code span, then the code is styled (Slack shows *`/change`* as bold code)', () => {
    expect(renderMrkdwn('*`/change`*: review', ctx)).toBe('<b><code>/change</code></b>: review');
    expect(renderMrkdwn('_`x`_ ~`y`~', ctx)).toBe('<i><code>x</code></i> <s><code>y</code></s>');
    expect(renderMrkdwn('*a `b` c*', ctx)).toBe('<b>a <code>b</code> c</b>');
  });

  it('when markers are inside a code span, then nothing in it is formatted, not even emoji', () => {
    expect(renderMrkdwn('`*a* _b_ ~c~ :tada:` :tada:', ctx)).toBe('<code>*a* _b_ ~c~ :tada:</code> 🎉');
    expect(renderMrkdwn('*x `*` y*', ctx)).toBe('<b>x <code>*</code> y</b>');
  });

  it('when asterisks are not at word boundaries, then they stay literal', () => {
    expect(renderMrkdwn('2*3*4 a*b* *c*d * e *', ctx)).toBe('2*3*4 a*b* *c*d * e *');
    expect(renderMrkdwn('(*ok*), "*ok*"', ctx)).toBe('(<b>ok</b>), &quot;<b>ok</b>&quot;');
  });

  it('when Slack escapes are inside code, then they show as the characters they stand for', () => {
    expect(visible(renderMrkdwn('`/change breakglass CHG-12 &lt;reason&gt;` &amp; more', ctx))).toBe('/change breakglass CHG-12 <reason> & more');
  });

  it('when /change help is rendered, then its title is bold code, its bullets are lines, and no markup character is left over', () => {
    const msg = buildChangeHelp();
    const html = renderMessage(msg, ctx);
    checkMarkup(html, BLOCK_TAGS);
    expect(html).toContain('<b><code>/change</code></b>: review changes');
    const text = visible(html);
    expect(text).not.toMatch(/[*`]/);
    expect(text).toContain('• /change breakglass CHG-12 <reason>: emergency only');
    expect(text).toContain('• /change freezes: deploy freezes active now and in the next 30 days');
    // Every bullet of the source is a line of its own: one per `• ` in the mrkdwn.
    const bullets = (msg.text.match(/^• /gm) ?? []).length;
    expect(bullets).toBeGreaterThanOrEqual(8);
    expect(text.split('\n').filter((l) => l.startsWith('• /change '))).toHaveLength(bullets);
    expect(html).toContain('<code>break_glass.allowed</code>');
  });

  it('when /change help echoes what was not understood, then the echo is code and stays inert', () => {
    const html = renderMessage(buildChangeHelp('*x* <!channel> _y_'), ctx);
    expectInert(html);
    expect(html).toContain('Sorry, I did not understand <code>*x* &lt;!channel&gt; _y_</code>.');
  });

  it('when /incident help is rendered, then its title is bold code too', () => {
    expect(renderMessage(buildIncidentHelp(), ctx)).toContain('<b><code>/incident</code></b>: declare incidents');
  });
});

describe('renderMrkdwn: injection', () => {
  it('keeps every hostile input inert', () => {
    for (const t of HOSTILE) {
      const html = renderMrkdwn(t, ctx);
      expectInert(html);
      checkMarkup(html, MRKDWN_TAGS);
    }
  });

  it('shows hostile raw HTML as its text', () => {
    expect(visible(renderMrkdwn('"><img src=x onerror=alert(1)>', ctx))).toBe('"><img src=x onerror=alert(1)>');
  });

  it('cannot be tricked by the private-use characters it uses internally', () => {
    const html = renderMrkdwn('\uE0000\uE001 <@U0ALICE>', ctx);
    expect(html).toBe('\uFFFD0\uFFFD <span class="mention">@Alice Ng</span>');
    expect(renderMrkdwn('`x` \uE0020\uE003', ctx)).toBe('<code>x</code> \uFFFD0\uFFFD');
  });

  it('produces only allowed markup for any input (property)', () => {
    const piece = fc.constantFrom(
      '<', '>', '&', '"', "'", '*', '_', '~', '`', '```', '\n', '|', '^', ':', ' ', 'a', '0',
      '@U0ALICE', '#C0PAYSEN', '!channel', '!subteam^S1', '!date^1', 'javascript:', 'https://x', 'mailto:',
      '&lt;', '&gt;', '&amp;', '&quot;', 'onerror=', 'img', 'script', ':tada:', '\uE000', '\uE001', '\uE002', '\uE003',
    );
    const text = fc.oneof(fc.array(piece, { maxLength: 30 }).map((a) => a.join('')), fc.string({ maxLength: 60 }));
    fc.assert(
      fc.property(text, (t) => {
        const html = renderMrkdwn(t, ctx);
        checkMarkup(html, MRKDWN_TAGS);
        expect(html).not.toMatch(/<(script|img)/i);
      }),
      { numRuns: 400 },
    );
  });
});

describe('renderPlainText', () => {
  it('escapes, keeps newlines and maps emoji unless emoji is false', () => {
    expect(renderPlainText({ type: 'plain_text', text: '<b>hi</b> :tada:\nnext' })).toBe('&lt;b&gt;hi&lt;/b&gt; 🎉<br>next');
    expect(renderPlainText({ type: 'plain_text', text: ':tada:', emoji: false })).toBe(':tada:');
    expect(renderPlainText({ type: 'plain_text', text: ':tada:', emoji: true })).toBe('🎉');
    expect(renderPlainText(undefined)).toBe('');
  });

  it('does not read mrkdwn in plain text', () => {
    expect(renderPlainText({ type: 'plain_text', text: '*x* <!channel>' })).toBe('*x* &lt;!channel&gt;');
  });
});

describe('renderBlocks', () => {
  it('renders a header as big plain text, escaped', () => {
    const html = renderBlocks([{ type: 'header', text: { type: 'plain_text', text: 'CHG-1 · <script>alert(1)</script> *x*', emoji: false } }], ctx);
    expect(html).toBe('<div class="bk-block bk-header">CHG-1 · &lt;script&gt;alert(1)&lt;/script&gt; *x*</div>');
    expectInert(html);
  });

  it('renders a section with text, a two-column field grid and an accessory button', () => {
    const html = renderBlocks([{
      type: 'section',
      block_id: 'b1',
      text: { type: 'mrkdwn', text: '*Why*' },
      fields: [{ type: 'mrkdwn', text: '*Author*\n<@U0ALICE>' }, { type: 'plain_text', text: 'Risk *high*' }],
      accessory: { type: 'button', action_id: 'open', text: { type: 'plain_text', text: 'Open' }, value: 'v' },
    }], ctx);
    checkMarkup(html, BLOCK_TAGS);
    expect(html).toContain('<div class="bk-section-text"><b>Why</b></div>');
    expect(html).toContain('<div class="bk-fields"><div class="bk-field"><b>Author</b><br><span class="mention">@Alice Ng</span></div><div class="bk-field">Risk *high*</div></div>');
    expect(html).toContain('<div class="bk-accessory"><button type="button" class="bk-btn" data-action-id="open" data-block-id="b1" data-value="v">Open</button></div>');
  });

  it('renders a context line from mrkdwn and plain_text elements', () => {
    const html = renderBlocks([{ type: 'context', elements: [{ type: 'mrkdwn', text: ':robot_face: *AI-assisted*' }, { type: 'plain_text', text: '+3 −1' }] }], ctx);
    expect(html).toBe('<div class="bk-block bk-context"><span class="bk-context-el">🤖 <b>AI-assisted</b></span><span class="bk-context-el">+3 −1</span></div>');
  });

  it('renders a divider as <hr>', () => {
    expect(renderBlocks([{ type: 'divider' }], ctx)).toBe('<hr class="bk-block bk-divider">');
  });

  it('renders action buttons with styles and escaped data attributes', () => {
    const html = renderBlocks([{
      type: 'actions',
      block_id: 'change_card_actions',
      elements: [
        { type: 'button', action_id: 'change_approve', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: '{"key":"CHG-1","round":1}' },
        { type: 'button', action_id: 'change_reject', style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value: '{"key":"CHG-1","round":1}' },
        { type: 'button', action_id: 'plain', text: { type: 'plain_text', text: 'Later' } },
      ],
    }], ctx);
    const buttons = checkMarkup(html, BLOCK_TAGS).filter((t) => t.name === 'button' && !t.closing);
    expect(buttons.map((b) => b.attrs.class)).toEqual(['bk-btn bk-primary', 'bk-btn bk-danger', 'bk-btn']);
    expect(buttons[0].attrs).toMatchObject({ 'data-action-id': 'change_approve', 'data-block-id': 'change_card_actions', 'data-value': '{"key":"CHG-1","round":1}' });
    expect(html).toContain('data-value="{&quot;key&quot;:&quot;CHG-1&quot;,&quot;round&quot;:1}"');
    expect(buttons[2].attrs['data-value']).toBe('');
  });

  it('keeps hostile button values, labels, action ids and block ids inert', () => {
    for (const evil of HOSTILE) {
      const html = renderBlocks([{
        type: 'actions',
        block_id: evil,
        elements: [{ type: 'button', action_id: evil, value: evil, text: { type: 'plain_text', text: evil }, url: evil }],
      }], ctx);
      expectInert(html);
      const [button] = checkMarkup(html, BLOCK_TAGS).filter((t) => t.name === 'button');
      expect(button.attrs).toMatchObject({ 'data-action-id': evil, 'data-block-id': evil, 'data-value': evil });
    }
  });

  it('renders an input block with a textarea, a label and an error placeholder', () => {
    const html = renderBlocks(buildRejectModal({ key: 'CHG-7', round: 1, channel: 'C0PAYSEN' }, 'Retry <capture>').blocks, ctx);
    const tags = checkMarkup(html, BLOCK_TAGS);
    const textarea = tags.find((t) => t.name === 'textarea')!;
    expect(textarea.attrs).toMatchObject({ 'data-block-id': 'reject_reason', 'data-action-id': 'reason', maxlength: '2000' });
    expect(html).toContain('<label class="bk-label" for="bk-in-reject_reason">Why? The author will read this.</label>');
    expect(html).toContain('<div class="bk-error" data-error-for="reject_reason"></div>');
    expect(html).toContain('Retry &lt;capture&gt;');
  });

  it('renders a single-line input, initial values and hostile ids inert', () => {
    const evil = '"><img src=x onerror=alert(1)>';
    const html = renderBlocks([{
      type: 'input', block_id: evil, optional: true,
      label: { type: 'plain_text', text: evil },
      element: { type: 'plain_text_input', action_id: evil, initial_value: evil, placeholder: { type: 'plain_text', text: evil } },
    }], ctx);
    expectInert(html);
    const input = checkMarkup(html, BLOCK_TAGS).find((t) => t.name === 'input')!;
    expect(input.attrs).toMatchObject({ type: 'text', 'data-block-id': evil, 'data-action-id': evil, value: evil, placeholder: evil });
    expect(html).toContain('(optional)');
  });

  it('renders an unknown block type as a grey placeholder line, escaped', () => {
    expect(renderBlocks([{ type: 'rich_text' }], ctx)).toBe('<div class="bk-block bk-unsupported">[unsupported block: rich_text]</div>');
    const html = renderBlocks([{ type: '<img src=x onerror=alert(1)>' }], ctx);
    expectInert(html);
    checkMarkup(html, BLOCK_TAGS);
  });

  it('tolerates missing or malformed blocks', () => {
    expect(renderBlocks(undefined, ctx)).toBe('');
    expect(renderBlocks([null, 3, 'x', { type: 'section' }, { type: 'actions' }], ctx)).toContain('bk-section');
  });

  it("renders a real approval card with a hostile title and description inertly", () => {
    const evil = '<script>alert(1)</script> "><img src=x onerror=alert(1)> <!channel> *bold*';
    const card = buildChangeCard(buildChange({ title: evil, description: evil, services: ['checkout'] }));
    const html = renderMessage(card, ctx);
    expectInert(html);
    const tags = checkMarkup(html, BLOCK_TAGS);
    expect(tags.filter((t) => t.name === 'span' && t.attrs.class === 'mention')).toHaveLength(1); // the author mention only
    expect(visible(html)).toContain('<!channel>');
    expect(tags.filter((t) => t.name === 'button' && !t.closing).map((b) => b.attrs['data-action-id'])).toEqual(['change_approve', 'change_reject', 'change_claim']);
    expect(html).toContain('<blockquote>');
    expect(html).toContain('<a href="https://github.com/acme/shop/pull/42" target="_blank" rel="noopener noreferrer">View change</a>');
  });
});

describe('renderMessage', () => {
  it('renders blocks when present', () => {
    expect(renderMessage({ text: 'fallback', blocks: [{ type: 'divider' }] }, ctx)).toBe('<hr class="bk-block bk-divider">');
  });

  it('falls back to the text as mrkdwn when blocks are missing or empty', () => {
    expect(renderMessage({ text: ':white_check_mark: <@U0ALICE> signed off *CHG-1*' }, ctx)).toBe(
      '<div class="bk-block bk-text">✅ <span class="mention">@Alice Ng</span> signed off <b>CHG-1</b></div>',
    );
    expect(renderMessage({ text: 'Fix &lt;!channel&gt;', blocks: [] }, ctx)).toBe('<div class="bk-block bk-text">Fix &lt;!channel&gt;</div>');
    expect(renderMessage(undefined, ctx)).toBe('<div class="bk-block bk-text"></div>');
  });
});
