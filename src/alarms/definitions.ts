/**
 * The alarms, with Cisco's names (so that admins recognise them from RTMT) and, in the spirit
 * of Cisco's "Solution" column, what to do about each.
 */
export type Severity = 'critical' | 'error' | 'warning';

export const ALARM_NAMES = ['XcpMFTExtFsFreeSpaceWarn', 'XcpMFTDBFullError', 'XcpMFTExtFsMountError', 'XcpMFTDBConnectError', 'XcpMFTPurgeStalledWarn', 'XcpMFTPurgeRefusedWarn', 'MFTRetentionStateWriteError'] as const;
export type AlarmName = (typeof ALARM_NAMES)[number];

export interface AlarmDefinition {
  severity: Severity;
  /** What is wrong, in one sentence. */
  problem: string;
  /** What the admin should do. */
  solution: string;
}

export const ALARM_DEFINITIONS: Record<AlarmName, AlarmDefinition> = {
  XcpMFTExtFsFreeSpaceWarn: {
    severity: 'warning',
    problem: 'Free disk space on the external file server is low; when it runs out, MFT uploads fail.',
    solution:
      'Check what fills the partition (df -h and du -sh <node dir>/files/* on the file server). Make sure purges succeed (mft-retention doctor; the XcpMFTPurgeStalledWarn alarm), consider shorter retention policies, or grow the file system.',
  },
  XcpMFTDBFullError: {
    severity: 'critical',
    problem: 'The external database is full or nearly full; MFT cannot insert AFT_LOG rows and file transfers stop.',
    solution:
      'Free or add space: grow the disk or tablespace (Oracle: ALTER TABLESPACE ... ADD DATAFILE, or raise the user quota), make sure purges succeed, consider shorter retention policies. After PostgreSQL deletes, VACUUM returns space for reuse.',
  },
  XcpMFTExtFsMountError: {
    severity: 'critical',
    problem: 'The external file server cannot be reached over SFTP (or presented an unexpected host key); nothing is purged and MFT may be affected too.',
    solution:
      'Run mft-retention doctor --config <file>. Check that the file server and its sshd are running, the network path and firewall (TCP 22), that the key is in ~mftuser/.ssh/authorized_keys, and that the pinned hostKey matches the server (ssh-keyscan, then verify on the server).',
  },
  XcpMFTDBConnectError: {
    severity: 'critical',
    problem: 'The external database cannot be reached or refuses the login; nothing is purged and MFT may be affected too.',
    solution:
      'Run mft-retention doctor --config <file>. Check that the database is running, the network path and firewall (PostgreSQL 5432, Oracle 1521/2484), the user and password, and pg_hba.conf or the Oracle listener.',
  },
  XcpMFTPurgeStalledWarn: {
    severity: 'warning',
    problem: 'Retention is not being applied: no purge of the node has succeeded for too long, or expired files are waiting past the allowed backlog age.',
    solution:
      'Look at the daemon log (journalctl -u mft-retention) and mft-retention doctor. Run mft-retention purge --dry-run --config <file> --node <node> to see what is due and why it is kept or failing (permissions on the file server, connection alarms, a safety limit).',
  },
  XcpMFTPurgeRefusedWarn: {
    severity: 'warning',
    problem: 'A purge was refused by a safety limit: it would have removed far more than usual, more than a configured cap, or every file of a chat type. Nothing of that scope was removed.',
    solution:
      'Run mft-retention purge --dry-run --config <file> --node <node> to see what would go and why it is unusual. If it is right (a first purge after a long pause, a policy just shortened), approve it once with the purge --approve token from the log or report; otherwise fix the policy or the data.',
  },
  // Not a Cisco alarm: about this service itself. Its node is the host the daemon runs on.
  MFTRetentionStateWriteError: {
    severity: 'error',
    problem: 'The daemon cannot write its state directory (read-only or full): it keeps purging and alarming with its state in memory, but a restart would forget the purge history, the alarm state and the undelivered alarm events.',
    solution:
      'Look at /healthz (stateDirectory) and the daemon log for the file and the error. Free space on the file system of daemon.stateDirectory (df -h /var/lib/mft-retention) or make it writable by the service user; the daemon retries by itself and clears this alarm once a write works.',
  },
};
