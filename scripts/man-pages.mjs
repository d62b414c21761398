#!/usr/bin/env node
// Writes the man pages man/mft-retention.1 (from the command table that --help prints) and
// man/mft-retention.yaml.5 (from the config schema), after `npm run build`. The Debian package
// installs them; `npm test` fails when the committed pages differ from what this writes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { asServiceManPage, commandManPage, configManPage } from '../dist/src/cli/manPages.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
mkdirSync(path.join(root, 'man'), { recursive: true });
writeFileSync(path.join(root, 'man/mft-retention.1'), commandManPage(version));
writeFileSync(path.join(root, 'man/mft-retention.yaml.5'), configManPage(version));
writeFileSync(path.join(root, 'man/mft-retention-as-service.1'), asServiceManPage(version));
console.log('wrote man/mft-retention.1, man/mft-retention.yaml.5 and man/mft-retention-as-service.1');
