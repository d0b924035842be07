/**
 * The wire's settings: REDIS_MCP_MAX_MESSAGE_BYTES (8 MiB by default, more when
 * REDIS_MCP_MAX_VALUE_BYTES is raised) and
 * REDIS_MCP_DRAIN_TIMEOUT_MS (the command timeout + 1 s by default), validated
 * with a message naming the setting; `StdioWire.make` builds from them and
 * logs through Effect's logger.
 */
import { PassThrough } from "node:stream"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Logger } from "effect"
import { describeConfigError } from "../../../src/layers/Config.ts"
import { StdioWire } from "../../../src/mcp/StdioWire.ts"
import { wireSettingsConfig } from "../../../src/mcp/WireSettings.ts"

const read = (env: Record<string, string>) => wireSettingsConfig.parse(ConfigProvider.fromEnvRecord(env))

const failure = (env: Record<string, string>) =>
  read(env).pipe(
    Effect.flip,
    Effect.map((e) => describeConfigError(e))
  )

describe("wire settings", () => {
  it.effect("defaults: 8 MiB lines, drain = command timeout + 1000 ms", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* read({}), { maxMessageBytes: 8 * 1024 * 1024, drainTimeoutMs: 6000 })
      assert.deepStrictEqual(yield* read({ REDIS_COMMAND_TIMEOUT_MS: "1500" }), {
        maxMessageBytes: 8 * 1024 * 1024,
        drainTimeoutMs: 2500
      })
    })
  )

  it.effect("a raised value cap raises the default line limit to fit a value JSON-escaped at worst", () =>
    Effect.gen(function* () {
      const s = yield* read({ REDIS_MCP_MAX_VALUE_BYTES: String(4 * 1024 * 1024) })
      assert.strictEqual(s.maxMessageBytes, 25 * 1024 * 1024)
      const capped = yield* read({ REDIS_MCP_MAX_VALUE_BYTES: String(100 * 1024 * 1024) })
      assert.strictEqual(capped.maxMessageBytes, 256 * 1024 * 1024)
    })
  )

  it.effect("both can be set", () =>
    Effect.gen(function* () {
      const s = yield* read({ REDIS_MCP_MAX_MESSAGE_BYTES: "2048", REDIS_MCP_DRAIN_TIMEOUT_MS: "0" })
      assert.deepStrictEqual(s, { maxMessageBytes: 2048, drainTimeoutMs: 0 })
    })
  )

  it.effect("bad values name the setting", () =>
    Effect.gen(function* () {
      assert.match(yield* failure({ REDIS_MCP_MAX_MESSAGE_BYTES: "100" }), /^REDIS_MCP_MAX_MESSAGE_BYTES: .*1024/)
      assert.match(yield* failure({ REDIS_MCP_MAX_MESSAGE_BYTES: "lots" }), /^REDIS_MCP_MAX_MESSAGE_BYTES/)
      assert.match(yield* failure({ REDIS_MCP_DRAIN_TIMEOUT_MS: "-1" }), /^REDIS_MCP_DRAIN_TIMEOUT_MS/)
      assert.match(yield* failure({ REDIS_MCP_DRAIN_TIMEOUT_MS: "9999999999" }), /^REDIS_MCP_DRAIN_TIMEOUT_MS/)
    })
  )

  it.effect("StdioWire.make reads them and logs rejected lines through Effect", () =>
    Effect.gen(function* () {
      const logged: Array<string> = []
      const input = new PassThrough()
      const output = new PassThrough()
      const wire = yield* StdioWire.make({ input, output }).pipe(
        Effect.provide(Logger.layer([Logger.make(({ logLevel, message }) => logged.push(`${logLevel} ${message}`))]))
      )
      assert.strictEqual(wire.maxMessageBytes, 2048)
      assert.strictEqual(wire.drainTimeoutMs, 1234)
      yield* Effect.promise(() => wire.start())
      input.write("nope\n")
      const reply = yield* Effect.promise(
        () => new Promise<string>((resolve) => output.once("data", (b: Buffer) => resolve(b.toString("utf8"))))
      )
      assert.strictEqual(JSON.parse(reply).error.code, -32700)
      assert.isTrue(logged.some((l) => l.startsWith("Warn") && l.includes("stdin line rejected")))
      yield* Effect.promise(() => wire.close())
    }).pipe(
      Effect.provide(
        ConfigProvider.layer(
          ConfigProvider.fromEnvRecord({ REDIS_MCP_MAX_MESSAGE_BYTES: "2048", REDIS_MCP_DRAIN_TIMEOUT_MS: "1234" })
        )
      )
    )
  )
})
