// Synthetic series for every shipped alert (monitoring/alerts.yml), in promtool's notation:
// 'a+bxn' is a, a+b, ... n more samples; '_' is a missing sample. One sample a minute.
// Each case walks an alert through "not firing", "firing" and "resolved"; `fires` lists the
// labels the query yields (the rule's own labels and annotations are added by the test).
import { ALARM_NAMES } from '../../src/alarms/definitions.js';

export interface AlertCase {
  alert: string;
  /** What the case shows. */
  title: string;
  series: Array<{ series: string; values: string }>;
  checks: Array<{ at: string; fires: Array<Record<string, string>> }>;
}

const J = 'job="mft-retention", instance="mft1:9464"';

const quiet = (at: string): { at: string; fires: [] } => ({ at, fires: [] });

export const ALERT_CASES: AlertCase[] = [
  {
    alert: 'MFTRetentionDown',
    title: 'the scrape fails for 5 minutes, then works again',
    series: [{ series: `up{${J}}`, values: '1x10 0x20 1x10' }],
    checks: [quiet('5m'), quiet('14m'), { at: '20m', fires: [{ job: 'mft-retention', instance: 'mft1:9464' }] }, quiet('35m')],
  },
  {
    alert: 'MFTRetentionAbsent',
    title: 'the target disappears for 30 minutes, then comes back',
    series: [{ series: `up{${J}}`, values: '1x10 _x30 1x10' }],
    checks: [quiet('5m'), quiet('20m'), { at: '35m', fires: [{ job: 'mft-retention' }] }, quiet('45m')],
  },
  {
    alert: 'MFTRetentionNoSuccessfulPurge',
    title: 'n1 last succeeded at 0 and again at 90m; n2 never until 100m (counted from when it was first watched); allowed: 1 hour',
    series: [
      { series: `mft_purge_last_success_timestamp_seconds{${J}, node="n1"}`, values: '0x89 5400x30' },
      { series: `mft_purge_max_time_without_success_seconds{${J}, node="n1"}`, values: '3600x120' },
      { series: `mft_purge_watched_since_timestamp_seconds{${J}, node="n1"}`, values: '0x120' },
      { series: `mft_purge_last_success_timestamp_seconds{${J}, node="n2"}`, values: '_x100 6000x20' },
      { series: `mft_purge_max_time_without_success_seconds{${J}, node="n2"}`, values: '3600x120' },
      { series: `mft_purge_watched_since_timestamp_seconds{${J}, node="n2"}`, values: '0x120' },
    ],
    checks: [quiet('59m'), { at: '62m', fires: [{ node: 'n1' }, { node: 'n2' }] }, { at: '95m', fires: [{ node: 'n2' }] }, quiet('105m')],
  },
  {
    alert: 'MFTRetentionNoSuccessfulPurge',
    title: 'the dead-man switch: the daemon is gone after 10 minutes, the alert still fires an hour after the last success',
    series: [
      { series: `mft_purge_last_success_timestamp_seconds{${J}, node="n1"}`, values: '0x10' },
      { series: `mft_purge_max_time_without_success_seconds{${J}, node="n1"}`, values: '3600x10' },
      { series: `up{${J}}`, values: '1x10 0x100' },
    ],
    checks: [quiet('30m'), { at: '70m', fires: [{ node: 'n1' }] }, { at: '110m', fires: [{ node: 'n1' }] }],
  },
  {
    alert: 'MFTRetentionBacklogOverdue',
    title: 'the oldest im file of n1 is overdue by a minute more every minute, past the 30-minute margin, until a purge empties the backlog; persistent stays in time',
    series: [
      { series: `mft_expired_backlog_oldest_overdue_seconds{${J}, node="n1", chat_type="im"}`, values: '0+60x60 0x20' },
      { series: `mft_expired_backlog_oldest_overdue_seconds{${J}, node="n1", chat_type="persistent"}`, values: '0+10x80' },
      { series: `mft_purge_max_backlog_age_seconds{${J}, node="n1"}`, values: '1800x80' },
    ],
    checks: [quiet('20m'), quiet('40m'), { at: '50m', fires: [{ node: 'n1', chat_type: 'im' }] }, quiet('65m')],
  },
  {
    alert: 'MFTRetentionPurgeRefused',
    title: 'a refusal of the im purge is raised at 11m and cleared at 31m (approved); the other chat type stays clear',
    series: [
      { series: `mft_alarm_active{${J}, alarm="XcpMFTPurgeRefusedWarn", node="n1", chat_type="im"}`, values: '0x10 1x20 0x10' },
      { series: `mft_alarm_active{${J}, alarm="XcpMFTPurgeRefusedWarn", node="n1", chat_type="groupchat"}`, values: '0x40' },
    ],
    checks: [quiet('5m'), { at: '15m', fires: [{ node: 'n1', chat_type: 'im' }] }, quiet('35m')],
  },
  {
    alert: 'MFTRetentionNodeLockHeldByNobody',
    title: 'instance a holds the lock, loses it at 61m and takes it again at 212m; instance b never holds it',
    series: [
      { series: `mft_purge_lock_held{job="mft-retention", instance="a:9464", node="n1"}`, values: '1x60 0x150 1x50' },
      { series: `mft_purge_lock_held{job="mft-retention", instance="b:9464", node="n1"}`, values: '0x260' },
    ],
    checks: [quiet('60m'), quiet('150m'), { at: '190m', fires: [{ node: 'n1' }] }, quiet('220m')],
  },
  {
    alert: 'MFTRetentionAlarmOutboxStuck',
    title: 'three events wait for the alertmanager sink from 11m to 41m; the log sink stays empty',
    series: [
      { series: `mft_alarm_outbox_events{${J}, sink="alertmanager"}`, values: '0x10 3x30 0x10' },
      { series: `mft_alarm_outbox_events{${J}, sink="log"}`, values: '0x51' },
    ],
    checks: [quiet('20m'), { at: '30m', fires: [{ job: 'mft-retention', instance: 'mft1:9464', sink: 'alertmanager' }] }, quiet('45m')],
  },
  {
    alert: 'MFTRetentionAlarmDeliveryFailing',
    title: 'the webhook fails from 11m to 31m without one delivery; the syslog sink fails sometimes but delivers too',
    series: [
      { series: `mft_alarm_deliveries_total{${J}, sink="webhook", result="failed"}`, values: '0x10 1+1x20 21x30' },
      { series: `mft_alarm_deliveries_total{${J}, sink="webhook", result="delivered"}`, values: '0x45 1+1x15' },
      { series: `mft_alarm_deliveries_total{${J}, sink="syslog", result="failed"}`, values: '0+1x61' },
      { series: `mft_alarm_deliveries_total{${J}, sink="syslog", result="delivered"}`, values: '0+2x61' },
    ],
    checks: [quiet('5m'), { at: '20m', fires: [{ instance: 'mft1:9464', sink: 'webhook' }] }, quiet('50m')],
  },
  {
    alert: 'MFTRetentionAlarmEventsDropped',
    title: 'five events are dropped at 11m; an hour later the alert resolves',
    series: [
      { series: `mft_alarm_deliveries_total{${J}, sink="webhook", result="dropped"}`, values: '0x10 5x80' },
      { series: `mft_alarm_deliveries_total{${J}, sink="webhook", result="delivered"}`, values: '0+1x90' },
    ],
    checks: [quiet('5m'), { at: '20m', fires: [{ instance: 'mft1:9464', sink: 'webhook' }] }, quiet('80m')],
  },
  // Cisco's alarms: raised by the daemon at 11m, cleared at 31m, while another alarm of the node is raised throughout.
  ...ALARM_NAMES.filter((a) => a.startsWith('XcpMFT') && !['XcpMFTPurgeStalledWarn', 'XcpMFTPurgeRefusedWarn'].includes(a)).map(
    (alarm): AlertCase => ({
      alert: alarm,
      title: `the daemon raises ${alarm} on n1 at 11m and clears it at 31m`,
      series: [
        { series: `mft_alarm_active{${J}, alarm="${alarm}", node="n1", chat_type=""}`, values: '0x10 1x20 0x10' },
        { series: `mft_alarm_active{${J}, alarm="XcpMFTPurgeRefusedWarn", node="n1", chat_type="im"}`, values: '1x40' },
      ],
      checks: [quiet('5m'), { at: '15m', fires: [{ node: 'n1' }] }, quiet('35m')],
    }),
  ),
];

/** Recording rules the dashboard relies on, over the same kind of series. */
export const RECORDING_CASES = [
  {
    title: 'purge rates per node and chat type, over 5 minutes',
    series: [
      { series: `mft_purge_files_total{${J}, node="n1", chat_type="im"}`, values: '0+60x20' },
      { series: `mft_purge_bytes_total{${J}, node="n1", chat_type="im"}`, values: '0+6000x20' },
      { series: `mft_purge_rows_total{${J}, node="n1", chat_type="im"}`, values: '0+120x20' },
    ],
    checks: [
      { expr: 'mft:purge_files:rate5m', at: '10m', exp: [{ labels: 'mft:purge_files:rate5m{node="n1", chat_type="im"}', value: 1 }] },
      { expr: 'mft:purge_bytes:rate5m', at: '10m', exp: [{ labels: 'mft:purge_bytes:rate5m{node="n1", chat_type="im"}', value: 100 }] },
      { expr: 'mft:purge_rows:rate5m', at: '10m', exp: [{ labels: 'mft:purge_rows:rate5m{node="n1", chat_type="im"}', value: 2 }] },
    ],
  },
  {
    title: 'the age of the last success, and runs by outcome',
    series: [
      { series: `mft_purge_last_success_timestamp_seconds{${J}, node="n1"}`, values: '0x5 300x20' },
      { series: `mft_purge_runs_total{${J}, node="n1", outcome="ok"}`, values: '0x5 1+1x20' },
      { series: `mft_purge_runs_total{${J}, node="n1", outcome="refused"}`, values: '0x25' },
    ],
    checks: [
      { expr: 'mft:purge_last_success_age:seconds', at: '20m', exp: [{ labels: 'mft:purge_last_success_age:seconds{node="n1"}', value: 900 }] },
      { expr: 'mft:purge_runs:increase1h{outcome="refused"}', at: '20m', exp: [{ labels: 'mft:purge_runs:increase1h{node="n1", outcome="refused"}', value: 0 }] },
    ],
  },
];
