// Test runner configuration: every suite lives in test/ and runs against real HTTP and a real
// migrated database (PGlite by default, PostgreSQL when DATABASE_URL is set).
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@ai-threads/source'] },
  ssr: { resolve: { conditions: ['@ai-threads/source'], externalConditions: ['@ai-threads/source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    // The cluster suites start server processes on PostgreSQL and Redis: `npm run test:cluster`.
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
