import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "./test/summary-reporter.ts"],
    // Integration suites start real redis-server / sentinel / cluster processes.
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
