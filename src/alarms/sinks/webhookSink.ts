import { createHmac } from 'node:crypto';
import type { SinkEvent } from '../sinkEvent.js';
import { postJson, type AlarmSink } from './sink.js';

/**
 * A generic webhook: the event as JSON (schema: src/alarms/alarm-event.v1.schema.json).
 * With an HMAC key, X-MFT-Retention-Signature is "sha256=" + hex HMAC-SHA256 over
 * "<X-MFT-Retention-Timestamp>.<body>", so a receiver can reject forged or replayed posts.
 */
export class WebhookSink implements AlarmSink {
  readonly type = 'webhook';
  readonly wantsRefresh = false;

  constructor(
    readonly name: string,
    private readonly cfg: { url: string; headers: Record<string, string>; timeoutMs: number; purgeFinished?: boolean },
    /** Reads the HMAC key when needed (never kept in a log or error). */
    private readonly hmacKey?: () => Promise<string>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get purgeFinished(): boolean {
    return this.cfg.purgeFinished ?? false;
  }

  async deliver(event: SinkEvent): Promise<void> {
    const body = JSON.stringify(event);
    const timestamp = String(Math.floor(this.now().getTime() / 1000));
    const headers: Record<string, string> = {
      ...this.cfg.headers,
      'x-mft-retention-event': event.event,
      'x-mft-retention-id': event.id,
      'x-mft-retention-timestamp': timestamp,
    };
    if (this.hmacKey) headers['x-mft-retention-signature'] = signWebhook(await this.hmacKey(), timestamp, body);
    await postJson(this.cfg.url, body, headers, this.cfg.timeoutMs);
  }
}

export function signWebhook(key: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
}
