import type { Config } from '../config/schema.ts';
import type { Database } from '../db/client.ts';
import { findChange } from '../db/repositories/changes.ts';
import { cardChannel } from './notifier.ts';
import { buildChangeCard, type SlackMessage } from './views/change-card.ts';

/** Renders a message Countersign owns from current state, by its ref (`card:<change id>`). */
export function messageRenderer(database: Database, config: Config) {
  return async (ref: string): Promise<{ channel: string; message: SlackMessage } | null> => {
    const m = /^card:(\d+)$/.exec(ref);
    if (!m) return null;
    const change = await findChange(database.db, Number(m[1]));
    if (!change) return null;
    return { channel: cardChannel(config, change), message: buildChangeCard(change) };
  };
}
