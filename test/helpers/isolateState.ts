// Vitest setup file: each test file gets a state directory of its own, so that a config that
// does not name daemon.stateDirectory never reads or writes the host's /var/lib/mft-retention
// (the purge history of the blast-radius limits lives there).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.STATE_DIRECTORY = mkdtempSync(join(tmpdir(), 'mft-state-'));
