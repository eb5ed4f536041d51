import type { App } from '@slack/bolt';
import type { ListenerContext } from './context.ts';

/** `/incident …` and the "Confirm cause" button (issue: incidents). */
export function registerIncidentListeners(_app: App, _ctx: ListenerContext): void {}
