import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The crash test kills and restarts servers under load: `npm run test:crash` runs it on its own.
    exclude: ['test/crash/**', 'node_modules/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more workers only fight over them (and over fsync).
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
