import { defineConfig } from 'vitest/config';

// Not part of the suite: records a real run for the dashboard picture (see record.run.ts).
export default defineConfig({
  test: {
    include: ['scripts/dashboard-picture/record.run.ts'],
    testTimeout: 30 * 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
