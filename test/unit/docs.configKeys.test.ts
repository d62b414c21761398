import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configReferencePage } from '../../src/config/configReferencePage.js';
import { keyReference } from '../../src/config/schemaReference.js';
import { configSchema } from '../../src/config/schema.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('docs/config-keys.md', () => {
  it('is what the schema generates: a key added, removed or changed in the code shows up here', () => {
    const committed = readFileSync(path.join(ROOT, 'docs/config-keys.md'), 'utf8');
    expect(committed, 'regenerate it: npm run build && node scripts/config-reference.mjs').toBe(configReferencePage());
  });

  it('lists nested, list and map keys with their schema defaults', () => {
    const rows = new Map(keyReference(configSchema).map((r) => [r.key, r]));
    expect(rows.get('purge.batchSize')).toMatchObject({ default: '`1000`' });
    expect(rows.get('nodes[].fileServer.port')).toMatchObject({ default: '`22`' });
    expect(rows.has('nodes[].policies.<im|groupchat|persistent>.retention')).toBe(true);
    expect(rows.has('alarms.sinks[].url')).toBe(true);
  });
});
