// Types for blockkit.js, the sandbox page's plain-JS renderer (imported by unit tests).

/** Looks up display names for mentions; either may answer undefined for an unknown id. */
export interface RenderContext {
  userName?(id: string): string | undefined;
  channelName?(id: string): string | undefined;
}

/** A Block Kit text object. */
export interface TextObject {
  type?: 'plain_text' | 'mrkdwn' | string;
  text?: string;
  emoji?: boolean;
}

/** A message as the sandbox state lists it. */
export interface RenderableMessage {
  text?: string;
  blocks?: unknown[];
}

export function escapeHtml(s: unknown): string;
export function renderMrkdwn(text: string | null | undefined, ctx?: RenderContext): string;
export function renderPlainText(textObj: TextObject | string | null | undefined): string;
export function renderBlocks(blocks: unknown[] | null | undefined, ctx?: RenderContext): string;
export function renderMessage(message: RenderableMessage | null | undefined, ctx?: RenderContext): string;
