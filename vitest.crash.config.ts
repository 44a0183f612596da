import { defineConfig } from 'vitest/config';

/** `npm run test:crash`: the SIGKILL-under-load test, apart from the main suite. */
export default defineConfig({
  test: { include: ['test/crash/**/*.test.ts'], pool: 'forks', testTimeout: 180_000, hookTimeout: 60_000 },
});
