import type { App } from '@slack/bolt';
import { registerActions } from './actions.ts';
import { registerCommands } from './commands.ts';
import { registerEvents } from './events.ts';
import type { ListenerContext } from './context.ts';
import { registerIncidentListeners } from './incidents.ts';
import { registerViews } from './views.ts';

/** Every Slack entry point, registered in one place. */
export function registerListeners(app: App, ctx: ListenerContext): void {
  registerActions(app, ctx);
  registerViews(app, ctx);
  registerCommands(app, ctx);
  registerEvents(app, ctx);
  registerIncidentListeners(app, ctx);
}
