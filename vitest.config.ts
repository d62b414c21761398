import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Oracle contract needs a real Oracle Database: `npm run test:oracle` (vitest.oracle.config.ts).
    exclude: [...configDefaults.exclude, 'test/oracle/**'],
    globalSetup: ['test/helpers/globalSetup.ts'],
    setupFiles: ['test/helpers/isolateState.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    // Each test file starts its own PostgreSQL/sshd, so files can run side by side.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
