import { createRequire } from 'node:module';
import { checkMaker, type Check } from './types.js';

const requireCjs = createRequire(import.meta.url);
const { pass, warn } = checkMaker('file-server');

/**
 * Whether ssh2 loaded its optional native crypto binding. The install builds it when a C++
 * compiler is present (scripts/build-ssh-crypto.mjs); without it every SSH packet gets a Node.js
 * cipher object of its own (or, for chacha20-poly1305, JavaScript code), which a purge,
 * receiving tens of thousands of small packets, pays for in CPU.
 */
export function sshCryptoBindingLoaded(): boolean {
  try {
    return Boolean((requireCjs('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: unknown }).bindingAvailable);
  } catch {
    return false;
  }
}

/** The `SSH crypto` check: which crypto code this host runs for the cipher the server agreed to. */
export function sshCryptoCheck(bindingLoaded: boolean, cipher: string | undefined): Check {
  const agreed = cipher ? `; cipher ${cipher}` : '';
  if (bindingLoaded) return pass('SSH crypto', `native ssh2 crypto binding${agreed}`);
  return warn(
    'SSH crypto',
    `ssh2's native crypto binding is not built${agreed}: purges work, with more CPU for each SSH packet`,
    'install a compiler (apt-get install g++ make), then run `node scripts/build-ssh-crypto.mjs` in the directory mft-retention is installed in ($(npm root -g)/mft-retention after npm install -g)',
  );
}
