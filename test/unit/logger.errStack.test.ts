// Log lines carry an error's message (and code, cause) always, its stack only at debug/trace.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const logger = fileURLToPath(new URL('../../dist/src/logger.js', import.meta.url));

function logError(level: string): Record<string, any> {
  const script = `import { makeLogger } from ${JSON.stringify(logger)};
const log = makeLogger({ level: ${JSON.stringify(level)}, fd: 1, pretty: false });
const e = Object.assign(new Error('cannot write /var/lib/mft-retention/alarms.json'), { code: 'ENOSPC' });
log.error({ err: e }, 'failed');`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim());
}

describe('error stacks in the log', () => {
  it('at info: the message and code, no stack', () => {
    const line = logError('info');
    expect(line.err).toMatchObject({ type: 'Error', message: 'cannot write /var/lib/mft-retention/alarms.json', code: 'ENOSPC' });
    expect(line.err.stack).toBeUndefined();
  });
  it('at debug: the stack too', () => {
    expect(logError('debug').err.stack).toMatch(/^Error: cannot write .*\n\s+at /);
  });
});
