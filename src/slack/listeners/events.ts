import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { getHome } from '../../use-cases/get-home.ts';
import { buildHome } from '../views/home.ts';
import type { ListenerContext } from './context.ts';

/** Publishes a person's App Home from current state. */
export async function publishHome(ctx: ListenerContext, client: WebClient, user: string): Promise<void> {
  const home = await getHome(ctx.deps, user);
  await client.views.publish({ user_id: user, view: buildHome({ ...home, now: ctx.deps.clock.now(), areas: ctx.deps.config.review.areas }) });
}

/** `app_home_opened`: the Home tab is rendered when the person opens it. */
export function registerEvents(app: App, ctx: ListenerContext): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await publishHome(ctx, client, event.user);
  });
}
