#!/usr/bin/env node
// Writes docs/config-keys.md, the list of every key of the config file, policy files and
// holds.yaml, from the schema the program validates with (run after `npm run build`).
// `npm test` fails when the committed page differs from what this prints.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { configReferencePage } from '../dist/src/config/configReferencePage.js';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/config-keys.md');
writeFileSync(out, configReferencePage());
console.log(`wrote ${out}`);
