import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// package.json sits at the root of every install (checkout, npm, Debian package): three folders
// above the compiled dist/src/cli/, two above the source src/cli/ that the tests import.
function packageJson(): string {
  const built = fileURLToPath(new URL('../../../package.json', import.meta.url));
  return existsSync(built) ? built : fileURLToPath(new URL('../../package.json', import.meta.url));
}

/** The version of this program, as package.json states it; read at call time, not at import. */
export function programVersion(file: string = packageJson()): string {
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof version !== 'string') throw new Error(`${file}: "version" is missing; reinstall mft-retention`);
  return version;
}

/** `--version` prints one line; `--version --verbose` adds the runtime that runs it. */
export function versionText(verbose: boolean): string {
  const lines = [`mft-retention ${programVersion()}`];
  if (verbose) {
    lines.push(`Node.js ${process.version} (${process.execPath})`);
    lines.push(`OpenSSL ${process.versions.openssl}, ${process.platform}-${process.arch}`);
  }
  return lines.join('\n');
}
