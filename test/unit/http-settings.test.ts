/**
 * The HTTP transport's settings and small parts: defaults (loopback hosts plus the bind host, the
 * body limit from the value cap), a non-loopback bind refused without auth unless explicitly
 * allowed, the Origin rule (full origins exactly, bare hostnames on any scheme and port), and the
 * drain's bookkeeping.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer } from "effect"
import { describeConfigError, ServerConfig } from "../../src/layers/Config.ts"
import { AuthSettings } from "../../src/mcp/auth/AuthSettings.ts"
import { makeDrain } from "../../src/mcp/Drain.ts"
import { originAllowed } from "../../src/mcp/HttpHandler.ts"
import { HttpConfig, isLoopback } from "../../src/mcp/HttpSettings.ts"
import { McpConfig } from "../../src/mcp/Settings.ts"

const settings = (env: Record<string, string>) =>
  Effect.gen(function* () {
    return yield* HttpConfig
  }).pipe(
    Effect.provide(
      HttpConfig.layer.pipe(
        Layer.provide(Layer.mergeAll(McpConfig.layer, ServerConfig.layer, AuthSettings.layer)),
        Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown(env)))
      )
    ),
    Effect.exit
  )

const refusal = (exit: Exit.Exit<unknown, unknown>) => {
  assert.isTrue(Exit.isFailure(exit))
  const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail")?.error : undefined
  return describeConfigError(error as never)
}

describe("HttpConfig", () => {
  it.effect("defaults: loopback hosts and origins, 4 MiB + the value cap, 10 s of grace", () =>
    Effect.gen(function* () {
      const exit = yield* settings({})
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      assert.deepStrictEqual(exit.value.allowedHosts, ["localhost", "127.0.0.1", "[::1]"])
      assert.deepStrictEqual(exit.value.allowedOrigins, ["localhost", "127.0.0.1", "[::1]"])
      assert.strictEqual(exit.value.maxBodyBytes, 4 * 1024 * 1024 + 1024 * 1024)
      assert.strictEqual(exit.value.shutdownGraceMs, 10_000)
      const raised = yield* settings({ REDIS_MCP_MAX_VALUE_BYTES: String(8 * 1024 * 1024) })
      assert.strictEqual(Exit.isSuccess(raised) && raised.value.maxBodyBytes, 12 * 1024 * 1024)
    })
  )

  it.effect("a named bind host is an allowed Host by default; listed hosts replace the defaults", () =>
    Effect.gen(function* () {
      const bound = yield* settings({ REDIS_MCP_HTTP_HOST: "::1" })
      assert.include(Exit.isSuccess(bound) ? bound.value.allowedHosts : [], "[::1]")
      const listed = yield* settings({ REDIS_MCP_ALLOWED_HOSTS: "MCP.example.com, 127.0.0.1" })
      assert.deepStrictEqual(Exit.isSuccess(listed) && listed.value.allowedHosts, ["mcp.example.com", "127.0.0.1"])
      const origins = yield* settings({ REDIS_MCP_ALLOWED_ORIGINS: "https://App.example.com:8443,localhost" })
      assert.deepStrictEqual(Exit.isSuccess(origins) && origins.value.allowedOrigins, [
        "https://app.example.com:8443",
        "localhost"
      ])
    })
  )

  it.effect("a non-loopback bind needs an auth method or the explicit opt-out", () =>
    Effect.gen(function* () {
      const open = yield* settings({ REDIS_MCP_HTTP_HOST: "0.0.0.0" })
      assert.match(refusal(open), /^REDIS_MCP_HTTP_HOST: 0\.0\.0\.0 is not a loopback address and no auth method/)
      const optedOut = yield* settings({ REDIS_MCP_HTTP_HOST: "0.0.0.0", REDIS_MCP_ALLOW_UNAUTHENTICATED: "1" })
      assert.isTrue(Exit.isSuccess(optedOut))
      assert.deepStrictEqual(Exit.isSuccess(optedOut) && optedOut.value.allowedHosts, [
        "localhost",
        "127.0.0.1",
        "[::1]"
      ])
      const withTokens = yield* settings({ REDIS_MCP_HTTP_HOST: "10.1.2.3", REDIS_MCP_AUTH_FILE: "/etc/auth.json" })
      assert.include(Exit.isSuccess(withTokens) ? withTokens.value.allowedHosts : [], "10.1.2.3")
    })
  )

  it("loopback addresses", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) assert.isTrue(isLoopback(h), h)
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "example.com", "128.0.0.1"]) assert.isFalse(isLoopback(h), h)
  })
})

describe("originAllowed", () => {
  const allowed = ["https://app.example.com", "localhost"]
  it("no Origin passes; a full origin must match exactly; a hostname matches any scheme and port", () => {
    assert.isTrue(originAllowed(undefined, allowed))
    assert.isTrue(originAllowed("https://app.example.com", allowed))
    assert.isFalse(originAllowed("http://app.example.com", allowed))
    assert.isFalse(originAllowed("https://app.example.com:8443", allowed))
    assert.isTrue(originAllowed("http://localhost:5173", allowed))
    assert.isFalse(originAllowed("https://evil.example", allowed))
    assert.isFalse(originAllowed("null", allowed))
    assert.isFalse(originAllowed("not a url", allowed))
  })
})

describe("makeDrain", () => {
  it("admits until draining; idle resolves when the last request leaves, or false after the grace", async () => {
    const drain = makeDrain()
    assert.isTrue(drain.enter())
    assert.isTrue(drain.enter())
    drain.start()
    assert.isFalse(drain.enter())
    assert.strictEqual(drain.inFlight(), 2)
    const idle = drain.idle(60_000)
    drain.leave()
    drain.leave()
    assert.isTrue(await idle)
    assert.isTrue(await drain.idle(0))
    const stuck = makeDrain()
    stuck.enter()
    assert.isFalse(await stuck.idle(1))
  })
})
