import type { Deps } from '../../use-cases/ports.ts';
import type { ClickQueue } from '../click-inbox.ts';

/** What listeners need: the use-case dependencies, and a way to wake the outbox sender after a commit. */
export interface ListenerContext {
  deps: Deps;
  nudge(): void;
  /** Where received clicks are applied after the ack. */
  clicks: ClickQueue;
}
