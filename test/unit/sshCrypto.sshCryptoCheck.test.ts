import { describe, expect, it } from 'vitest';
import { sshCryptoBindingLoaded, sshCryptoCheck } from '../../src/doctor/sshCrypto.js';

describe('sshCryptoCheck', () => {
  it('passes with the native binding and names the cipher the server agreed to', () => {
    expect(sshCryptoCheck(true, 'aes128-gcm@openssh.com')).toEqual({
      group: 'file-server',
      name: 'SSH crypto',
      status: 'pass',
      detail: 'native ssh2 crypto binding; cipher aes128-gcm@openssh.com',
    });
  });

  it('warns without the binding, saying how to build it', () => {
    const check = sshCryptoCheck(false, 'chacha20-poly1305@openssh.com');
    expect(check.status).toBe('warn');
    expect(check.detail).toBe("ssh2's native crypto binding is not built; cipher chacha20-poly1305@openssh.com: purges work, with more CPU for each SSH packet");
    expect(check.fix).toMatch(/apt-get install g\+\+ make.*node scripts\/build-ssh-crypto\.mjs/);
  });

  it('leaves the cipher out when the handshake did not report one', () => {
    expect(sshCryptoCheck(true, undefined).detail).toBe('native ssh2 crypto binding');
  });
});

describe('sshCryptoBindingLoaded', () => {
  it('is true once the install has built the binding, which `npm test` does first (scripts/test.sh)', async () => {
    const { createRequire } = await import('node:module');
    const { existsSync } = await import('node:fs');
    const { dirname, join } = await import('node:path');
    const ssh2Dir = dirname(createRequire(import.meta.url).resolve('ssh2/package.json'));
    expect(existsSync(join(ssh2Dir, 'lib/protocol/crypto/build/Release/sshcrypto.node')), 'ssh2 crypto binding built').toBe(true);
    expect(sshCryptoBindingLoaded()).toBe(true);
  });
});
