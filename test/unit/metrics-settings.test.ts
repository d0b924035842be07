/**
 * The metrics settings (REDIS_MCP_METRICS, REDIS_MCP_METRICS_PORT and the queue-depth
 * sampling): defaults, values from flags and the environment, one message naming a bad
 * setting; and what `off` does: the recording layers see the flag, every update lands in a
 * registry that keeps nothing, and `/metrics` says metrics are off instead of rendering series.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { configProvider, parseCli } from "../../src/layers/Cli.ts"
import { describeConfigError } from "../../src/layers/Config.ts"
import * as Metrics from "../../src/layers/Metrics.ts"
import {
  DEFAULT_QUEUE_DEPTH,
  layer,
  MetricsEnabled,
  metricsSettingsConfig,
  QueueDepthConfig
} from "../../src/layers/MetricsSettings.ts"
import * as CallMetrics from "../../src/mcp/CallMetrics.ts"

const parse = (env: Record<string, string>, argv: ReadonlyArray<string> = []) => {
  const cli = parseCli(argv)
  if (cli._tag !== "Run") throw new Error(`unexpected CLI result ${cli._tag}`)
  return metricsSettingsConfig.parse(configProvider(env, cli.env))
}

const failure = (env: Record<string, string>) =>
  parse(env).pipe(
    Effect.flip,
    Effect.map((e) => describeConfigError(e))
  )

describe("metrics settings", () => {
  it.effect("default: on, no port, queue depths every 15 s, 50 a round, 100 queues, idle after an hour", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* parse({}), {
        enabled: true,
        port: undefined,
        queueDepth: { intervalMs: 15_000, batch: 50, maxQueues: 100, idleMs: 3_600_000 }
      })
    })
  )

  it.effect("values from the environment; --metrics-port wins over REDIS_MCP_METRICS_PORT", () =>
    Effect.gen(function* () {
      const s = yield* parse(
        {
          REDIS_MCP_METRICS: "OFF",
          REDIS_MCP_METRICS_PORT: "9464",
          REDIS_MCP_QUEUE_DEPTH_INTERVAL_MS: "1000",
          REDIS_MCP_QUEUE_DEPTH_BATCH: "5",
          REDIS_MCP_QUEUE_DEPTH_MAX_QUEUES: "20",
          REDIS_MCP_QUEUE_DEPTH_IDLE_MS: "60000"
        },
        ["--metrics-port", "0"]
      )
      assert.deepStrictEqual(s, {
        enabled: false,
        port: 0,
        queueDepth: { intervalMs: 1000, batch: 5, maxQueues: 20, idleMs: 60_000 }
      })
      for (const on of ["on", "true", "1"]) assert.isTrue((yield* parse({ REDIS_MCP_METRICS: on })).enabled, on)
      for (const off of ["off", "false", "0"]) assert.isFalse((yield* parse({ REDIS_MCP_METRICS: off })).enabled, off)
    })
  )

  it.effect("a bad value is one line naming the setting", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* failure({ REDIS_MCP_METRICS: "maybe" }), 'REDIS_MCP_METRICS: "maybe" is not on or off')
      assert.strictEqual(
        yield* failure({ REDIS_MCP_METRICS_PORT: "70000" }),
        'REDIS_MCP_METRICS_PORT: expected a port from 0 to 65535, got "70000"'
      )
      assert.match(yield* failure({ REDIS_MCP_METRICS_PORT: "x" }), /^REDIS_MCP_METRICS_PORT: /)
      assert.strictEqual(
        yield* failure({ REDIS_MCP_QUEUE_DEPTH_BATCH: "0" }),
        'REDIS_MCP_QUEUE_DEPTH_BATCH: must be a whole number from 1 to 10000, got "0"'
      )
      assert.match(yield* failure({ REDIS_MCP_QUEUE_DEPTH_INTERVAL_MS: "10" }), /^REDIS_MCP_QUEUE_DEPTH_INTERVAL_MS: /)
      assert.match(yield* failure({ REDIS_MCP_QUEUE_DEPTH_MAX_QUEUES: "-1" }), /^REDIS_MCP_QUEUE_DEPTH_MAX_QUEUES: /)
      assert.match(yield* failure({ REDIS_MCP_QUEUE_DEPTH_IDLE_MS: "1.5" }), /^REDIS_MCP_QUEUE_DEPTH_IDLE_MS: /)
    })
  )
})

describe("REDIS_MCP_METRICS=off", () => {
  const record = Effect.gen(function* () {
    yield* Metrics.countToolCall({ tool: "get", outcome: "ok" })
    yield* Metric.update(Metrics.redisConnected, 1)
    yield* Metrics.setQueueDepth({ queue: "q", status: "waiting" }, 3)
    Metrics.redisCommandSeries("get").updateUnsafe(0.001, yield* Effect.context<never>())
    const calls = yield* CallMetrics.make
    calls.toolCall("get", "ok", calls.start())
    calls.operation("tools/list", "", calls.start())
    return calls
  })

  it.effect("on: the recorders record, and /metrics renders them", () =>
    Effect.gen(function* () {
      const calls = yield* record
      assert.isTrue(calls.enabled)
      const text = yield* Metrics.render
      assert.include(text, 'redis_mcp_tool_calls_total{tool="get",outcome="ok"} 2')
      assert.include(text, 'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/list"')
      assert.include(text, 'redis_mcp_task_queue_depth{queue="q",status="waiting"} 3')
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map()))
  )

  it.effect("off: the flag is seen, the edge's recorder is off, nothing is kept and /metrics says so", () =>
    Effect.gen(function* () {
      assert.isFalse(yield* MetricsEnabled)
      const calls = yield* record
      assert.isFalse(calls.enabled)
      assert.deepStrictEqual(yield* Metric.snapshot, [])
      assert.strictEqual(yield* Metrics.render, Metrics.OFF_TEXT)
    }).pipe(Effect.provide(layer({ enabled: false, queueDepth: DEFAULT_QUEUE_DEPTH })))
  )

  it.effect("on by default; the layer gives the sampler its configured settings", () =>
    Effect.gen(function* () {
      assert.isTrue(yield* MetricsEnabled)
      assert.deepStrictEqual(yield* QueueDepthConfig, DEFAULT_QUEUE_DEPTH)
      const queueDepth = { ...DEFAULT_QUEUE_DEPTH, batch: 7 }
      const configured = yield* Effect.provide(QueueDepthConfig, layer({ enabled: true, queueDepth }))
      assert.deepStrictEqual(configured, queueDepth)
      assert.isTrue(yield* Effect.provide(MetricsEnabled, layer({ enabled: true, queueDepth })))
    })
  )
})

describe("protocol error types", () => {
  it("are a fixed set, by code", () => {
    assert.strictEqual(CallMetrics.protocolErrorType({ code: -32602 }), "InvalidParams")
    assert.strictEqual(CallMetrics.protocolErrorType({ code: -32600 }), "InvalidRequest")
    assert.strictEqual(CallMetrics.protocolErrorType({ code: -32601 }), "MethodNotFound")
    assert.strictEqual(CallMetrics.protocolErrorType({ code: -32603 }), "InternalError")
    assert.strictEqual(CallMetrics.protocolErrorType({ code: 12345 }), "ProtocolError")
    assert.strictEqual(CallMetrics.protocolErrorType(new Error("boom")), "Internal")
  })
})
