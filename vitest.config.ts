import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more workers only fight over them (and over fsync).
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
