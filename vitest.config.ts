import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // e2e suites spawn real daemons: two cores, so keep file parallelism modest
    maxWorkers: 2,
    fileParallelism: true
  }
})
