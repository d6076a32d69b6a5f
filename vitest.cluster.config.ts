// Runner configuration of the cluster suites (`npm run test:cluster`): several instances of the
// built server as separate processes on the machine's PostgreSQL and Redis. One suite at a time,
// since each starts its own processes; the default config (`npm test`) leaves test/cluster out.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    globalSetup: ['test/cluster/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
