// lintian on the built package: no error or warning beyond the overrides the package ships
// (packaging/deb/lintian-overrides, each with its reason; docs/install.md lists them).
import { describe, expect, it } from 'vitest';
import { DEB_BUILD_TIMEOUT_MS, ensureDebPackage, lintianTags } from '../helpers/debPackage.js';

describe('lintian', () => {
  it('finds no error or warning in the Debian package', async () => {
    const tags = await lintianTags(await ensureDebPackage());
    expect(tags.filter((t) => /^[EW]: /.test(t))).toEqual([]);
  }, DEB_BUILD_TIMEOUT_MS * 2);
});
