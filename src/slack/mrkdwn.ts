/** Escapes text from outside for Slack mrkdwn, so `<!channel>` or `<https://evil|docs>` shows as text. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts text to at most `max` characters, ending with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  // Cut on whole code points, so an emoji is never split into half a surrogate pair.
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out.trimEnd()}…`;
}

/**
 * Escapes outside text and fits the result in `max` characters without cutting an entity
 * (`&amp;`) in half: the cut happens on the raw text, with an ellipsis.
 */
export function safeText(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const ch of text) {
    const e = escapeMrkdwn(ch);
    if (out.length + e.length > max - 1) break;
    out += e;
  }
  return `${out.trimEnd()}…`;
}

/** Fits already-safe mrkdwn (built by us from escaped parts) in `max` characters, cutting at a line end when possible. */
export function fitMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf('\n', max - 2);
  let head = text.slice(0, cut > max / 2 ? cut : max - 1);
  // Never leave a half entity or a half <…> token at the end.
  head = head.replace(/&[a-z]{0,4}$/, '').replace(/<[^>]*$/, '');
  return `${head}…`;
}

/** A user mention; ids are validated (they come from config or Slack), never free text. */
export function mention(userId: string | null | undefined): string {
  return userId && /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : 'someone';
}

/** A link with an escaped label; the URL is one we validated (http(s), no `<>|`). */
export function link(url: string | null | undefined, label: string): string {
  if (!url || !/^https?:\/\/[^\s<>|]+$/.test(url)) return escapeMrkdwn(label);
  return `<${url.replace(/&/g, '&amp;')}|${escapeMrkdwn(label).replace(/\|/g, '¦')}>`;
}

/** "2026-11-02 10:00 UTC": readable everywhere (Slack clients and the sandbox). */
/**
 * A time to the second that each reader's Slack shows in their own time zone, with a UTC fallback:
 * `<!date^1764288000^{date_short_pretty} {time_secs}|2025-11-28 00:00:00 UTC>`.
 */
export function slackTime(d: Date): string {
  return `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time_secs}|${d.toISOString().slice(0, 19).replace('T', ' ')} UTC>`;
}

export function formatTime(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
