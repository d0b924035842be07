import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration suites start real redis-server / sentinel / cluster processes.
    testTimeout: 60_000,
    hookTimeout: 120_000
  }
})
