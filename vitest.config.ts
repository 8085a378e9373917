import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The machine has 2 cores; end-to-end tests start real processes and terminals.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
