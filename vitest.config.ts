import { defineConfig } from "vitest/config"

const E2E = "test/e2e/**/*.test.ts"
/** Also run with the fast paths off (the SDK answers every call): the parity tests compare the bytes. */
const E2E_SDK_PATH = [
  "test/e2e/server.e2e.test.ts",
  "test/e2e/keys.e2e.test.ts",
  "test/e2e/tasks.e2e.test.ts",
  "test/e2e/http-roles.e2e.test.ts"
]

export default defineConfig({
  test: {
    reporters: ["default", "./test/summary-reporter.ts"],
    // Integration suites start real redis-server / sentinel / cluster processes.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The e2e suite runs twice, same assertions: with the v1 SDK Client (2025-11-25) and with the
    // v2 Client pinned to 2026-07-28 (test/e2e/client.ts reads E2E_CLIENT).
    projects: [
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: [E2E] } },
      { extends: true, test: { name: "e2e-2025-11-25", include: [E2E], env: { E2E_CLIENT: "v1" } } },
      { extends: true, test: { name: "e2e-2026-07-28", include: [E2E], env: { E2E_CLIENT: "v2" } } },
      {
        extends: true,
        test: { name: "e2e-2025-11-25-sdk-path", include: E2E_SDK_PATH, env: { E2E_CLIENT: "v1", E2E_FASTPATH: "0" } }
      },
      {
        extends: true,
        test: { name: "e2e-2026-07-28-sdk-path", include: E2E_SDK_PATH, env: { E2E_CLIENT: "v2", E2E_FASTPATH: "0" } }
      }
    ]
  }
})
