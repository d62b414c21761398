import { holdsFileSchema } from './holds.js';
import { policyFileSchema } from './policySchema.js';
import { configSchema } from './schema.js';
import { keyReference, renderKeyReference } from './schemaReference.js';

/** docs/config-keys.md, generated from the schemas the files are validated with. */
export function configReferencePage(): string {
  const intro = [
    'Generated from the schema mft-retention validates with (`node scripts/config-reference.mjs`),',
    'so it lists exactly the keys it accepts; what each does is in [configuration.md](configuration.md)',
    'and [alarms.md](alarms.md). Any other key is an error. A "-" default means the key is optional',
    'or required as those pages say; the defaults of the blast-radius limits and alarm thresholds are',
    'applied after validation and given there.',
  ].join('\n');
  return [
    renderKeyReference('Every configuration key', `${intro}\n\n## config.yaml`, keyReference(configSchema)).trimEnd(),
    '',
    renderKeyReference('', '## Policy files (policies/im.yaml, groupchat.yaml, persistent.yaml)', keyReference(policyFileSchema)).replace(/^# \n\n/, '').trimEnd(),
    '',
    renderKeyReference('', '## policies/holds.yaml', keyReference(holdsFileSchema)).replace(/^# \n\n/, ''),
  ].join('\n');
}
