import type { Logger } from 'pino';
import type { ResolvedAlarms } from '../../config/resolveAlarms.js';
import { readSecret } from '../../config/secrets.js';
import { AlertmanagerSink } from './alertmanagerSink.js';
import { LogSink } from './logSink.js';
import type { AlarmSink } from './sink.js';
import { SyslogSink } from './syslogSink.js';
import { WebhookSink } from './webhookSink.js';

/**
 * The configured sinks. The log always gets the alarms: when no `type: log` sink is
 * configured, one named "log" is added.
 */
export function makeSinks(alarms: ResolvedAlarms, log: Logger, env: NodeJS.ProcessEnv): AlarmSink[] {
  // Alertmanager resolves an alert not re-sent within this time (if this daemon is gone).
  const validityMs = Math.max(3 * alarms.checkIntervalMs, 180_000);
  const sinks: AlarmSink[] = alarms.sinks.map((s) => {
    switch (s.type) {
      case 'alertmanager':
        return new AlertmanagerSink(s.name, s, validityMs);
      case 'webhook': {
        const source = s.hmac;
        return new WebhookSink(s.name, s, source ? () => readSecret(source, env) : undefined);
      }
      case 'syslog':
        return new SyslogSink(s.name, s);
      case 'log':
        return new LogSink(s.name, log, s.purgeFinished);
    }
  });
  if (!sinks.some((s) => s.type === 'log')) sinks.push(new LogSink('log', log));
  return sinks;
}
