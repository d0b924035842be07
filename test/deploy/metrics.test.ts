/**
 * The metric definitions (src/layers/Metrics.ts) rendered after some updates and
 * read back by a Prometheus text parser (the official Python client's): every
 * series of the contract with its name, type, HELP, label names, histogram
 * buckets and values; then `promtool check metrics` (the Prometheus project's
 * own parser and linter) on the same text.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Metric } from "effect"
import { TestClock } from "effect/testing"
import * as Metrics from "../../src/layers/Metrics.ts"
import * as ProcessMetrics from "../../src/layers/ProcessMetrics.ts"
import { type Family, parseExposition, type Sample } from "./exposition.ts"
import { requireTool, run } from "./tools.ts"

/** Each test gets its own registry (the default one is shared by the whole process). */
const isolated = <A, E>(effect: Effect.Effect<A, E>) =>
  effect.pipe(Effect.provideService(Metric.MetricRegistry, new Map()))

const withProcessMetrics = <A, E>(effect: Effect.Effect<A, E>) =>
  isolated(Effect.provide(effect, Layer.fresh(ProcessMetrics.make("5 seconds"))))

/** The series name a family is queried by: a counter's samples keep `_total`, a histogram's add suffixes. */
const seriesName = (f: Family) => (f.type === "counter" ? `${f.name}_total` : f.name)

const family = (families: ReadonlyArray<Family>, name: string): Family => {
  const found = families.find((f) => seriesName(f) === name)
  assert.isDefined(found, `series ${name} is rendered`)
  return found!
}

/** The samples of `f` named `name` whose labels include `labels`. */
const samples = (f: Family, name: string, labels: Record<string, string> = {}): ReadonlyArray<Sample> =>
  f.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))

const value = (f: Family, name: string, labels: Record<string, string> = {}): number => {
  const found = samples(f, name, labels)
  assert.strictEqual(found.length, 1, `one ${name}${JSON.stringify(labels)}`)
  return found[0]!.value
}

const recordSome = Effect.gen(function* () {
  yield* Metrics.recordOperation({ mcp_method_name: "tools/call", gen_ai_tool_name: "get", error_type: "" }, 0.0003)
  yield* Metrics.recordOperation({ mcp_method_name: "tools/call", gen_ai_tool_name: "set", error_type: "Timeout" }, 2)
  yield* Metrics.recordOperation({ mcp_method_name: "tools/list", gen_ai_tool_name: "", error_type: "" }, 0.001)
  yield* Metrics.countToolCall({ tool: "get", outcome: "ok" })
  yield* Metrics.countToolCall({ tool: "get", outcome: "ok" })
  yield* Metrics.countToolCall({ tool: "set", outcome: "Timeout" })
  yield* Metrics.recordRedisCommand("get", 0.0002)
  yield* Metrics.recordRedisCommand("evalsha", 0.004)
  yield* Metric.update(Metrics.redisConnected, 1)
  yield* Metric.update(Metrics.redisReconnects, 2)
  yield* Metric.update(Metrics.redisTimeouts, 1)
  yield* Metric.update(Metrics.redisFailovers, 1)
  yield* Metric.update(Metrics.clusterSlotsCovered, 16384)
  yield* Metric.update(Metrics.pubsubSubscriptions, 3)
  yield* Metrics.setQueueDepth({ queue: "build", status: "waiting" }, 12)
  yield* Metrics.setQueueDepth({ queue: "build", status: "failed" }, 1)
  yield* Metrics.countHttpRequest(200)
  yield* Metrics.countHttpRequest(401)
  yield* Metrics.countAuthFailure("invalid")
})

const render = Effect.map(Metrics.render, parseExposition)

describe("Metrics", () => {
  requireTool("prometheus-client")
  it.effect("renders every series of the contract with its type, help and label names", () =>
    withProcessMetrics(
      Effect.gen(function* () {
        yield* recordSome
        const families = yield* render
        assert.deepStrictEqual(
          families.map(seriesName).sort(),
          Metrics.catalog.map((s) => s.name).sort(),
          "exactly the catalog's series, names unprefixed"
        )
        for (const series of Metrics.catalog) {
          const f = family(families, series.name)
          assert.strictEqual(f.type, series.type, series.name)
          assert.strictEqual(f.help, series.help, series.name)
          assert.isAbove(f.help.length, 10, `${series.name} has a description`)
          for (const s of f.samples) {
            const expected = s.name.endsWith("_bucket") ? [...series.labels, "le"] : series.labels
            assert.deepStrictEqual(Object.keys(s.labels).sort(), [...expected].sort(), s.name)
          }
        }
      })
    )
  )

  it.effect("counts, gauges and histogram buckets carry the recorded values", () =>
    isolated(
      Effect.gen(function* () {
        yield* recordSome
        const families = yield* render
        const calls = family(families, "redis_mcp_tool_calls_total")
        assert.strictEqual(value(calls, calls.samples[0]!.name, { tool: "get", outcome: "ok" }), 2)
        assert.strictEqual(value(calls, "redis_mcp_tool_calls_total", { tool: "set", outcome: "Timeout" }), 1)
        assert.strictEqual(calls.samples.length, 2)

        const op = family(families, "mcp_server_operation_duration_seconds")
        const get = { gen_ai_tool_name: "get", error_type: "" }
        const buckets = samples(op, "mcp_server_operation_duration_seconds_bucket", get)
        assert.deepStrictEqual(
          buckets.map((b) => b.labels.le),
          [...Metrics.LATENCY_BOUNDARIES.map(String), "+Inf"],
          "one bucket per boundary, in order, then +Inf"
        )
        const bucket = (le: string, labels: Record<string, string>) =>
          value(op, "mcp_server_operation_duration_seconds_bucket", { ...labels, le })
        assert.strictEqual(bucket("0.00025", get), 0)
        assert.strictEqual(bucket("0.0005", get), 1)
        assert.strictEqual(value(op, "mcp_server_operation_duration_seconds_count", get), 1)
        assert.strictEqual(value(op, "mcp_server_operation_duration_seconds_sum", get), 0.0003)
        const set = { gen_ai_tool_name: "set", error_type: "Timeout" }
        assert.strictEqual(bucket("1", set), 0)
        assert.strictEqual(bucket("2.5", set), 1)

        const redis = family(families, "redis_mcp_redis_command_duration_seconds")
        const evalsha = { command: "evalsha", le: "0.005" }
        assert.strictEqual(value(redis, "redis_mcp_redis_command_duration_seconds_bucket", evalsha), 1)
        const scalar = (name: string) => value(family(families, name), name)
        assert.strictEqual(scalar("redis_mcp_redis_connected"), 1)
        assert.strictEqual(scalar("redis_mcp_redis_reconnects_total"), 2)
        assert.strictEqual(scalar("redis_mcp_cluster_slots_covered"), 16384)
        const depth = family(families, "redis_mcp_task_queue_depth")
        assert.strictEqual(value(depth, "redis_mcp_task_queue_depth", { queue: "build", status: "waiting" }), 12)
        const http = family(families, "redis_mcp_http_requests_total")
        assert.strictEqual(value(http, "redis_mcp_http_requests_total", { code: "401" }), 1)
        const auth = family(families, "redis_mcp_auth_failures_total")
        assert.strictEqual(value(auth, "redis_mcp_auth_failures_total", { reason: "invalid" }), 1)
      })
    )
  )

  it.effect("label objects in another key order update the same series", () =>
    isolated(
      Effect.gen(function* () {
        yield* Metrics.countToolCall({ outcome: "ok", tool: "get" } as Metrics.ToolCallLabels)
        yield* Metrics.countToolCall({ tool: "get", outcome: "ok" })
        const calls = family(yield* render, "redis_mcp_tool_calls_total")
        assert.strictEqual(calls.samples.length, 1)
        assert.strictEqual(calls.samples[0]?.value, 2)
      })
    )
  )

  it.effect("initialize shows the unlabelled counters at 0 and leaves connected unset", () =>
    isolated(
      Effect.gen(function* () {
        yield* Metrics.initialize
        const families = yield* render
        for (const name of [
          "redis_mcp_redis_reconnects_total",
          "redis_mcp_redis_timeouts_total",
          "redis_mcp_redis_failovers_total",
          "redis_mcp_pubsub_subscriptions"
        ]) {
          assert.strictEqual(value(family(families, name), name), 0, name)
        }
        assert.isUndefined(families.find((f) => f.name === "redis_mcp_redis_connected"))
      })
    )
  )

  it.effect("process metrics are sampled at start and every interval", () =>
    withProcessMetrics(
      Effect.gen(function* () {
        const scalar = (families: ReadonlyArray<Family>, name: string) => value(family(families, name), name)
        const first = yield* render
        assert.isAbove(scalar(first, "process_resident_memory_bytes"), 10 * 1024 * 1024)
        assert.isAbove(scalar(first, "process_cpu_seconds_total"), 0)
        assert.isAtLeast(scalar(first, "nodejs_eventloop_lag_seconds"), 0)
        // Burn some CPU, then let the sampler run once more.
        let x = 0
        for (let i = 0; i < 5_000_000; i++) x += i % 7
        assert.isAbove(x, 0)
        yield* TestClock.adjust("5 seconds")
        const second = yield* render
        assert.isAbove(scalar(second, "process_cpu_seconds_total"), scalar(first, "process_cpu_seconds_total"))
      })
    )
  )
})

describe("Metrics with promtool", () => {
  requireTool("promtool")
  it.effect("promtool check metrics accepts the rendering", () =>
    withProcessMetrics(
      Effect.gen(function* () {
        yield* recordSome
        const text = yield* Metrics.render
        const result = run("promtool", ["check", "metrics"], { input: text })
        assert.strictEqual(result.status, 0, `${result.stdout}${result.stderr}`)
        assert.strictEqual(`${result.stdout}${result.stderr}`.trim(), "", "no lint findings")
      })
    )
  )
})
