import type { ServerResponse } from 'node:http';
import { type App, type BufferedIncomingMessage, HTTPModuleFunctions as bolt, HTTPResponseAck, type Logger, type Receiver, type ReceiverEvent } from '@slack/bolt';
import { passedGuard } from './guard.ts';

const EVENTS_PATH = '/slack/events';
/** Bolt's own default: a request no listener acks within ~3 s is answered 404 (Slack shows the user a timeout). */
const ACK_TIMEOUT_MS = 3001;

/**
 * Bolt's supported extension point for transport: a custom `Receiver` for requests the guard has already
 * verified. It dispatches the way HTTPReceiver does (Bolt's own parser, ssl_check and url_verification answers,
 * `HTTPResponseAck` with its 3 s timeout, `processEvent`, its error handler), answering at `ack()`
 * (processBeforeResponse off), but never checks the signature again: the guard did, once.
 * It fails closed: a request that did not come through the guard is answered 401.
 */
export class VerifiedRequestReceiver implements Receiver {
  private app: App | undefined;

  constructor(private readonly logger: Logger) {}

  init(app: App): void {
    this.app = app;
  }

  /** Mounted on Countersign's own HTTP server, which owns the port: nothing to start or stop. */
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** Handles one guarded request (hand it to `guardSlackListener`, never mount it bare). */
  readonly dispatch = async (req: BufferedIncomingMessage, res: ServerResponse): Promise<void> => {
    if (!passedGuard(req) || !this.app) {
      bolt.buildNoBodyResponse(res, 401);
      return;
    }
    // Bolt's router answers what is not `POST /slack/events` with 404 (its default dispatch error handler).
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://localhost').pathname !== EVENTS_PATH) {
      bolt.buildNoBodyResponse(res, 404);
      return;
    }
    let body: ReceiverEvent['body'];
    try {
      body = bolt.parseHTTPRequestBody(req);
      // The guard only passes objects; Bolt's own receiver would throw, unanswered, on `null`.
      if (!body || typeof body !== 'object') throw new Error('the body is not an object');
    } catch (err) {
      this.logger.warn(`Malformed request body: ${(err as Error).message}`);
      bolt.buildNoBodyResponse(res, 400);
      return;
    }
    if (body.ssl_check === '1') return bolt.buildSSLCheckResponse(res);
    if (body.type === 'url_verification') return bolt.buildUrlVerificationResponse(res, body);
    const ack = new HTTPResponseAck({ logger: this.logger, processBeforeResponse: false, unhandledRequestTimeoutMillis: ACK_TIMEOUT_MS, httpRequest: req, httpRequestBody: body, httpResponse: res });
    const event: ReceiverEvent = {
      body,
      ack: ack.bind(),
      retryNum: bolt.extractRetryNumFromHTTPRequest(req),
      retryReason: bolt.extractRetryReasonFromHTTPRequest(req),
      customProperties: {},
    };
    try {
      await this.app.processEvent(event);
    } catch (error) {
      const acked = await bolt.defaultProcessEventErrorHandler({ error: error as Error, logger: this.logger, request: req, response: res, storedResponse: ack.storedResponse });
      if (acked) ack.ack();
    }
  };
}
