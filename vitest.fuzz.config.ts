import { defineConfig } from 'vitest/config';

// `npm run fuzz`: the long fuzzing run only (not part of `npm test`).
export default defineConfig({
  test: { include: ['test/fuzz/**/*.fuzz.ts'], pool: 'forks', testTimeout: 0 },
});
