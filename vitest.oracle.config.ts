import { defineConfig } from 'vitest/config';

// `npm run test:oracle`: the Catalog contract against a real Oracle Database, given by
// ORACLE_TEST_CONNECT_STRING, ORACLE_TEST_USER and ORACLE_TEST_PASSWORD. Kept out of `npm test`.
export default defineConfig({
  test: {
    include: ['test/oracle/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
