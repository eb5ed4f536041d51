import { createHmac } from 'node:crypto';

/**
 * Slack's request signature (v0): `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` keyed
 * with the app's signing secret. Pure, so it can be checked against Slack's documented example.
 */
export function signSlackRequest(secret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/** What an app answered to a delivered request. */
export interface AppReply {
  status: number;
  body: string;
}

/**
 * POSTs `rawBody` to `url` signed the way Slack signs its deliveries
 * (`X-Slack-Request-Timestamp` and `X-Slack-Signature` headers).
 */
export async function postSigned(url: string, secret: string, rawBody: string, contentType = 'application/x-www-form-urlencoded'): Promise<AppReply> {
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(secret, timestamp, rawBody),
    },
    body: rawBody,
  });
  return { status: res.status, body: await res.text() };
}
