import { holdsFileSchema } from '../config/holds.js';
import { policyFileSchema } from '../config/policySchema.js';
import { configSchema } from '../config/schema.js';
import { keyReference } from '../config/schemaReference.js';
import { COMMANDS, GLOBAL_OPTIONS, commandName } from './commandTable.js';

/** Text for roff: backslashes and leading dots or quotes escaped, backticks dropped. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/`/g, '')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

const header = (name: string, section: number, version: string, title: string): string[] => [
  `.TH ${name.toUpperCase()} ${section} "" "mft-retention ${version}" "${title}"`,
];

/** mft-retention(1): every command with its options, defaults, examples and exit codes, from the command table. */
export function commandManPage(version: string): string {
  const out = [
    ...header('mft-retention', 1, version, 'mft-retention manual'),
    '.SH NAME',
    'mft\\-retention \\- retention and purge for Cisco IM and Presence Managed File Transfer',
    '.SH SYNOPSIS',
    '.B mft\\-retention',
    '.I command',
    '[\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    roff(
      'Per IM and Presence node, mft-retention finds the uploads in AFT_LOG whose retention has passed, removes their files from the external file server over SFTP (never anything of the current UTC hour, never anything outside the node directory), then deletes their AFT_LOG rows, and raises Cisco\'s MFT alarms. Without --config, the configuration is read from $MFT_RETENTION_CONFIG, else /etc/mft-retention/config.yaml; its keys are described in mft-retention.yaml(5).',
    ),
    '.SH COMMANDS',
  ];
  for (const c of COMMANDS) {
    out.push(`.SS ${roff(commandName(c))}`, roff(c.summary), '.PP', roff(c.description.replace(/\n/g, ' ')));
    if (c.positional) out.push('.TP', `.I ${c.positional.name}`, roff(c.positional.summary));
    for (const o of c.options) {
      out.push('.TP', `.B ${o.short ? `\\-${o.short}, ` : ''}\\-\\-${roff(o.name)}${o.value ? ` \\fI${o.value}\\fR` : ''}`, roff(`${o.summary} (default: ${o.default})`));
    }
    out.push('.PP', 'Examples:', '.RS', ...c.examples.flatMap((e) => ['.nf', roff(e), '.fi']), '.RE');
    out.push('.PP', 'Exit codes:', '.RS', ...c.exitCodes.flatMap(([code, meaning]) => ['.TP 4', `.B ${code}`, roff(meaning)]), '.RE');
  }
  out.push('.SH GLOBAL OPTIONS');
  for (const o of GLOBAL_OPTIONS) out.push('.TP', `.B ${o.short ? `\\-${o.short}, ` : ''}\\-\\-${roff(o.name)}`, roff(o.summary));
  out.push(
    '.SH FILES',
    '.TP',
    '.I /etc/mft\\-retention/config.yaml',
    'the configuration, see mft\\-retention.yaml(5)',
    '.TP',
    '.I /etc/mft\\-retention/policies/',
    'one retention policy file per chat type, and holds.yaml',
    '.TP',
    '.I /var/lib/mft\\-retention/',
    'the state: alarm state and outbox, purge history, daemon state',
    '.SH SEE ALSO',
    'mft\\-retention.yaml(5), systemctl(1), journalctl(1); /usr/share/doc/mft\\-retention/',
  );
  return `${out.join('\n')}\n`;
}

/** mft-retention.yaml(5): every key of the config, policy and holds files, from the schema. */
export function configManPage(version: string): string {
  const out = [
    ...header('mft-retention.yaml', 5, version, 'mft-retention manual'),
    '.SH NAME',
    'mft\\-retention.yaml \\- configuration of mft\\-retention',
    '.SH DESCRIPTION',
    roff('The configuration file (YAML) names the IM and Presence nodes, their databases and file servers, and the purge, daemon and alarm settings. Unknown keys, duplicate keys and bad values are errors that name the file, line and key. "mft-retention config check" validates a file.'),
  ];
  const section = (title: string, rows: ReturnType<typeof keyReference>) => {
    out.push(`.SH ${title}`);
    for (const r of rows) out.push('.TP', `.B ${roff(r.key)}`, roff(`${r.accepts}${r.default ? `; default ${r.default}` : ''}`));
  };
  section('CONFIG.YAML KEYS', keyReference(configSchema));
  section('POLICY FILES', keyReference(policyFileSchema));
  section('HOLDS.YAML', keyReference(holdsFileSchema));
  out.push('.SH SEE ALSO', 'mft\\-retention(1)');
  return `${out.join('\n')}\n`;
}

/** mft-retention-as-service(1): the by-hand wrapper of the units. */
export function asServiceManPage(version: string): string {
  return `${[
    ...header('mft-retention-as-service', 1, version, 'mft-retention manual'),
    '.SH NAME',
    'mft\\-retention\\-as\\-service \\- run an mft\\-retention command exactly as its systemd service runs it',
    '.SH SYNOPSIS',
    '.B mft\\-retention\\-as\\-service',
    '.I command',
    '[\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    roff('Runs "mft-retention COMMAND OPTIONS" through systemd-run with the settings of the installed unit (drop-ins included): its user, its credentials (LoadCredential=), its state directory and its sandbox. Run it as root. MFT_RETENTION_UNIT names the unit to copy (default mft-retention-purge.service). The exit code is the command\'s.'),
    '.SH EXAMPLES',
    '.nf',
    roff('mft-retention-as-service doctor\nmft-retention-as-service purge --dry-run\nmft-retention-as-service purge --node node_1 --approve TOKEN\nmft-retention-as-service alarms'),
    '.fi',
    '.SH SEE ALSO',
    'mft\\-retention(1), systemd\\-run(1)',
  ].join('\n')}\n`;
}
