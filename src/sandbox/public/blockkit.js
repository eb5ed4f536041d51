// Block Kit and mrkdwn rendering for the Countersign sandbox page.
// Pure functions from Slack message JSON to HTML strings: no DOM access, so Node and vitest can import it.
// Every piece of message data is HTML-escaped; the only raw HTML in the output is the tags built here.

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(s) {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const EMOJI = {
  white_check_mark: '✅',
  x: '❌',
  hourglass_flowing_sand: '⏳',
  robot_face: '🤖',
  page_facing_up: '📄',
  link: '🔗',
  building_construction: '🏗️',
  red_circle: '🔴',
  large_orange_circle: '🟠',
  large_yellow_circle: '🟡',
  large_green_circle: '🟢',
  rotating_light: '🚨',
  alarm_clock: '⏰',
  no_entry_sign: '🚫',
  no_entry: '⛔',
  tada: '🎉',
  warning: '⚠️',
  fire: '🔥',
  eyes: '👀',
  bell: '🔔',
  mag: '🔍',
  arrow_up: '⬆️',
  arrows_counterclockwise: '🔄',
  grey_question: '❔',
  white_circle: '⚪',
  bust_in_silhouette: '👤',
};

/** Replaces known `:name:` shortcodes with Unicode; unknown ones stay as they are. Safe on escaped HTML. */
function emojify(s) {
  return s.replace(/:([a-z0-9_+-]+):/g, (all, name) => (Object.hasOwn(EMOJI, name) ? EMOJI[name] : all));
}

/** Slack's own escapes in message text (`&amp; &lt; &gt;`), decoded in one pass so `&amp;lt;` stays `&lt;`. */
function decodeSlack(s) {
  return s.replace(/&(amp|lt|gt);/g, (_, e) => (e === 'amp' ? '&' : e === 'lt' ? '<' : '>'));
}

/** Slack text (still Slack-escaped) → decoded → HTML-escaped. */
const textHtml = (s) => escapeHtml(decodeSlack(s));

// Rendered `<…>` tokens are swapped out for these markers while formatting runs, then put back;
// inline code spans likewise, with their own pair. Marker characters already in the input are
// replaced first, so input can never forge one.
const MARK_OPEN = '\uE000';
const MARK_CLOSE = '\uE001';
const MARK_RE = /\uE000(\d+)\uE001/g;
const CODE_OPEN = '\uE002';
const CODE_CLOSE = '\uE003';
const CODE_RE = /\uE002(\d+)\uE003/g;

const safeName = (fn, id) => {
  try {
    const v = typeof fn === 'function' ? fn(id) : undefined;
    return typeof v === 'string' && v !== '' ? v : undefined;
  } catch {
    return undefined;
  }
};

/** One Slack markup token (the text between `<` and `>`) → HTML. */
function renderToken(inner, ctx) {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? undefined : inner.slice(bar + 1);
  const mention = (text) => `<span class="mention">${escapeHtml(text)}</span>`;

  if (target.startsWith('@') && target.length > 1) {
    const id = target.slice(1);
    const name = safeName(ctx?.userName, id) ?? (label ? decodeSlack(label).replace(/^@/, '') : id);
    return mention(`@${name}`);
  }
  if (target.startsWith('#') && target.length > 1) {
    const id = target.slice(1);
    const name = safeName(ctx?.channelName, id) ?? (label ? decodeSlack(label) : id);
    return `<span class="channel-ref">#${escapeHtml(name)}</span>`;
  }
  if (target.startsWith('!')) {
    const cmd = target.slice(1);
    if (cmd === 'here' || cmd === 'channel' || cmd === 'everyone') return mention(`@${cmd}`);
    if (cmd.startsWith('subteam^')) return mention(label ? `@${decodeSlack(label).replace(/^@/, '')}` : `@${cmd.slice(8)}`);
    if (cmd.startsWith('date^')) return escapeHtml(label !== undefined ? decodeSlack(label) : cmd.split('^')[1] ?? '');
    if (label !== undefined) return escapeHtml(decodeSlack(label));
  }
  const url = decodeSlack(target);
  if (/^(https?:\/\/|mailto:)[^\s]+$/i.test(url)) {
    const text = label !== undefined && label !== '' ? decodeSlack(label) : url;
    return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(text)}</a>`;
  }
  // Not a token we understand (e.g. `<javascript:…|x>`): show it as the text it is, never as a link.
  return escapeHtml(`<${decodeSlack(inner)}>`);
}

/** Bold, italic and strike on one line of HTML-escaped text (no code inside). Slack needs non-word neighbours. */
function inlineStyles(s) {
  for (const [ch, tag] of [['*', 'b'], ['_', 'i'], ['~', 's']]) {
    const c = ch === '*' ? '\\*' : ch; // only `*` is special in a regex; `_` and `~` may not be escaped under /u
    const re = new RegExp(`(^|[^\\p{L}\\p{N}${c}])${c}([^${c}\\s](?:[^${c}]*[^${c}\\s])?)${c}(?![\\p{L}\\p{N}${c}])`, 'gu');
    s = s.replace(re, (_, pre, body) => `${pre}<${tag}>${body}</${tag}>`);
  }
  return s;
}

/**
 * One line of text (tokens already swapped for markers): inline code, escape, emoji, styles.
 * Code spans are set aside first, so nothing inside them is styled, while styles around them
 * still apply, as in Slack: `*`/change`*` is bold code.
 */
function renderLine(line) {
  const codes = [];
  const text = line.replace(/`([^`]+)`/g, (_, code) => {
    codes.push(`<code>${textHtml(code)}</code>`);
    return `${CODE_OPEN}${codes.length - 1}${CODE_CLOSE}`;
  });
  return inlineStyles(emojify(textHtml(text))).replace(CODE_RE, (_, n) => codes[Number(n)] ?? '');
}

/** Lines outside code blocks; runs of lines starting with a literal `>` become one blockquote. */
function renderLines(text) {
  const out = [];
  let quote = null;
  const flushQuote = () => {
    if (quote) out.push({ block: `<blockquote>${quote.join('<br>')}</blockquote>` });
    quote = null;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('>')) {
      (quote ??= []).push(renderLine(line.slice(1).replace(/^ /, '')));
    } else {
      flushQuote();
      out.push({ line: renderLine(line) });
    }
  }
  flushQuote();
  let html = '';
  out.forEach((item, i) => {
    if (item.block) html += item.block;
    else html += item.line + (i < out.length - 1 && !out[i + 1].block ? '<br>' : '');
  });
  return html;
}

/**
 * Slack mrkdwn → HTML. Real `<…>` tokens become mentions and links; Slack's escapes decode to the
 * characters they stand for and are HTML-escaped again, so `&lt;!channel&gt;` shows as the text `<!channel>`.
 */
export function renderMrkdwn(text, ctx = {}) {
  const tokens = [];
  const src = String(text ?? '')
    .replace(/[\uE000-\uE003]/g, '\uFFFD')
    .replace(/<([^<>\n]*)>/g, (_, inner) => {
      tokens.push(renderToken(inner, ctx));
      return `${MARK_OPEN}${tokens.length - 1}${MARK_CLOSE}`;
    });
  const parts = src.split('```');
  // An odd number of fences leaves the last one unmatched: treat it as text.
  if (parts.length % 2 === 0) parts[parts.length - 2] += '```' + parts.pop();
  const last = parts.length - 1;
  const html = parts
    .map((part, i) => {
      if (i % 2 === 1) return `<pre>${textHtml(part.replace(/^\n/, '').replace(/\n$/, ''))}</pre>`;
      // A <pre> is a block of its own: drop the newline that separates it from the text around it.
      const text = part.replace(i > 0 ? /^\n/ : /^$/, '').replace(i < last ? /\n$/ : /^$/, '');
      return text === '' && (i > 0 || i < last) ? '' : renderLines(text);
    })
    .join('');
  return html.replace(MARK_RE, (_, n) => tokens[Number(n)] ?? '');
}

/** A plain_text object (or a bare string) → escaped HTML; emoji shortcodes map unless `emoji: false`. */
export function renderPlainText(textObj) {
  const obj = typeof textObj === 'string' ? { text: textObj } : textObj ?? {};
  let html = escapeHtml(obj.text ?? '');
  if (obj.emoji !== false) html = emojify(html);
  return html.replace(/\n/g, '<br>');
}

/** A text object of either type. */
function renderText(obj, ctx) {
  if (!obj || typeof obj !== 'object') return typeof obj === 'string' ? renderPlainText(obj) : '';
  return obj.type === 'mrkdwn' ? renderMrkdwn(obj.text, ctx) : renderPlainText(obj);
}

const attr = (name, value) => ` ${name}="${escapeHtml(value)}"`;
const blockIdOf = (block) => (typeof block?.block_id === 'string' ? block.block_id : '');

function renderButton(el, blockId) {
  const style = el.style === 'primary' ? ' bk-primary' : el.style === 'danger' ? ' bk-danger' : '';
  return (
    `<button type="button" class="bk-btn${style}"` +
    attr('data-action-id', el.action_id ?? '') +
    attr('data-block-id', blockId) +
    attr('data-value', el.value ?? '') +
    (typeof el.url === 'string' ? attr('data-url', el.url) : '') +
    `>${renderText(el.text, {})}</button>`
  );
}

function renderElement(el, blockId, ctx) {
  if (!el || typeof el !== 'object') return '';
  if (el.type === 'button') return renderButton(el, blockId);
  if (el.type === 'mrkdwn' || el.type === 'plain_text') return `<span class="bk-context-el">${renderText(el, ctx)}</span>`;
  if (el.type === 'image') return `<span class="bk-context-el bk-image-alt">${escapeHtml(el.alt_text ?? '')}</span>`;
  return `<span class="bk-unsupported">[unsupported element: ${escapeHtml(el.type)}]</span>`;
}

function renderInputElement(el, blockId, optional) {
  const common = attr('data-block-id', blockId) + attr('data-action-id', el?.action_id ?? '') + attr('id', `bk-in-${blockId}`) + (optional ? '' : ' data-required="true"');
  if (el?.type === 'plain_text_input') {
    const ph = el.placeholder ? attr('placeholder', el.placeholder.text ?? '') : '';
    const max = Number.isInteger(el.max_length) ? attr('maxlength', el.max_length) : '';
    if (el.multiline) return `<textarea class="bk-textarea" rows="4"${common}${ph}${max}>${escapeHtml(el.initial_value ?? '')}</textarea>`;
    return `<input type="text" class="bk-input-text"${common}${ph}${max}${attr('value', el.initial_value ?? '')}>`;
  }
  if (el?.type === 'static_select' && Array.isArray(el.options)) {
    const initial = el.initial_option?.value;
    const opts = el.options
      .map((o) => `<option${attr('value', o?.value ?? '')}${o?.value === initial ? ' selected' : ''}>${renderPlainText(o?.text)}</option>`)
      .join('');
    return `<select class="bk-select"${common}>${initial === undefined ? '<option value=""></option>' : ''}${opts}</select>`;
  }
  return `<span class="bk-unsupported">[unsupported element: ${escapeHtml(el?.type)}]</span>`;
}

function renderBlock(block, ctx) {
  if (!block || typeof block !== 'object') return '';
  const blockId = blockIdOf(block);
  const bid = blockId ? attr('data-block-id', blockId) : '';
  switch (block.type) {
    case 'header':
      return `<div class="bk-block bk-header"${bid}>${renderPlainText(block.text)}</div>`;
    case 'section': {
      const text = block.text ? `<div class="bk-section-text">${renderText(block.text, ctx)}</div>` : '';
      const fields = Array.isArray(block.fields) && block.fields.length
        ? `<div class="bk-fields">${block.fields.map((f) => `<div class="bk-field">${renderText(f, ctx)}</div>`).join('')}</div>`
        : '';
      const acc = block.accessory ? `<div class="bk-accessory">${renderElement(block.accessory, blockId, ctx)}</div>` : '';
      return `<div class="bk-block bk-section"${bid}><div class="bk-section-body">${text}${fields}</div>${acc}</div>`;
    }
    case 'context': {
      const els = Array.isArray(block.elements) ? block.elements.map((e) => renderElement(e, blockId, ctx)).join('') : '';
      return `<div class="bk-block bk-context"${bid}>${els}</div>`;
    }
    case 'divider':
      return `<hr class="bk-block bk-divider">`;
    case 'actions': {
      const els = Array.isArray(block.elements) ? block.elements.map((e) => renderElement(e, blockId, ctx)).join('') : '';
      return `<div class="bk-block bk-actions"${bid}>${els}</div>`;
    }
    case 'input': {
      const optional = block.optional === true;
      const label = `<label class="bk-label"${attr('for', `bk-in-${blockId}`)}>${renderPlainText(block.label)}${optional ? ' <span class="bk-optional">(optional)</span>' : ''}</label>`;
      const hint = block.hint ? `<div class="bk-hint">${renderPlainText(block.hint)}</div>` : '';
      return `<div class="bk-block bk-input"${bid}>${label}${renderInputElement(block.element, blockId, optional)}${hint}<div class="bk-error"${attr('data-error-for', blockId)}></div></div>`;
    }
    default:
      return `<div class="bk-block bk-unsupported">[unsupported block: ${escapeHtml(block.type)}]</div>`;
  }
}

/** Block Kit blocks → HTML. */
export function renderBlocks(blocks, ctx = {}) {
  return Array.isArray(blocks) ? blocks.map((b) => renderBlock(b, ctx)).join('') : '';
}

/** A message: its blocks when it has any, else its fallback `text` as mrkdwn. */
export function renderMessage(message, ctx = {}) {
  const blocks = message?.blocks;
  if (Array.isArray(blocks) && blocks.length > 0) return renderBlocks(blocks, ctx);
  return `<div class="bk-block bk-text">${renderMrkdwn(message?.text ?? '', ctx)}</div>`;
}
