import type { Deps } from '../../use-cases/ports.ts';

/** What listeners need: the use-case dependencies, and a way to wake the outbox sender after a commit. */
export interface ListenerContext {
  deps: Deps;
  nudge(): void;
}

/** Acks within Slack's 3 s even if the work is slow: the work goes on, the ack does not wait past `ms`. */
export async function withinAckWindow<T>(work: Promise<T>, ms = 2_000): Promise<{ done: true; value: T } | { done: false; later: Promise<T> }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  const winner = await Promise.race([work.then((value) => ({ value })), timeout]);
  clearTimeout(timer);
  return winner === 'timeout' ? { done: false, later: work } : { done: true, value: winner.value };
}
