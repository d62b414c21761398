import type { SinkEvent } from '../sinkEvent.js';

/** Where alarm events (and, for sinks that ask, purge finished events) go. `deliver` resolves once the receiver has the event, or throws. */
export interface AlarmSink {
  readonly name: string;
  readonly type: 'alertmanager' | 'webhook' | 'syslog' | 'log';
  /** Alertmanager forgets an alert that is not re-sent: only such sinks get refreshes of active alarms. */
  readonly wantsRefresh: boolean;
  /** The sink's `purgeFinished: true`: it also gets a "purge finished" event after each purge. */
  readonly purgeFinished: boolean;
  deliver(event: SinkEvent): Promise<void>;
}

/** A receiver that answered but will never accept this event (HTTP 4xx): retrying cannot help. */
export class RejectedDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RejectedDeliveryError';
  }
}

/** POSTs JSON; 2xx is delivered, 408/429/5xx and network errors are retried, other 4xx rejected. */
export async function postJson(url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'user-agent': 'mft-retention', ...headers }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new Error(`POST ${redactUrl(url)} failed: ${why}`, { cause: err });
  }
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const detail = `POST ${redactUrl(url)} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200).replace(/\s+/g, ' ')}` : ''}`;
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new RejectedDeliveryError(detail);
  throw new Error(detail);
}

/** A URL for messages: user:password@ and the query (which may carry a token) are hidden. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}
