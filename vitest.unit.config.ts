import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the inner loop's subset, under a minute on two cores and without a build.
 * Tests of pure modules only (test/unit); the signing pool's test runs the built worker thread,
 * so it stays in the full suite, which `npm test` runs after building.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: ['test/unit/signing-pool.test.ts', 'node_modules/**'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
