/**
 * The MCP series the edge records: for every `tools/call` of a known tool, one
 * `redis_mcp_tool_calls_total{tool, outcome}` and one
 * `mcp_server_operation_duration_seconds{mcp_method_name="tools/call", gen_ai_tool_name, error_type}`;
 * for the other methods (and a `tools/call` refused before any tool ran) the histogram alone,
 * with no tool name. Label values stay bounded: tool names of the catalog, error tags, method
 * names the server registered handlers for, and the few protocol error names below.
 *
 * Each label set's series is made once and kept, then updated with `updateUnsafe` in the
 * layer's context: a call costs two map lookups, a clock read and two updates, and no Effect.
 * With REDIS_MCP_METRICS=off nothing is timed or recorded.
 */
import { Clock, Effect, type Metric } from "effect"
import * as Metrics from "../layers/Metrics.ts"
import { MetricsEnabled } from "../layers/MetricsSettings.ts"
import { UnknownToolError } from "./Envelope.ts"

export interface CallMetrics {
  readonly enabled: boolean
  /** The time a request starts, for `toolCall` and `operation`. */
  readonly start: () => bigint
  /** A `tools/call` of `tool` (a known tool) ended with `outcome`: `ok` or the error tag. */
  readonly toolCall: (tool: string, outcome: string, startedAt: bigint) => void
  /** A request other than a tool's call ended; `errorType` is "" on success. */
  readonly operation: (method: string, errorType: string, startedAt: bigint) => void
}

/** Most distinct outcomes kept per tool, and error types per method; later ones are counted as `other`. */
const MAX_LABELS = 64
const OTHER = "other"

interface ToolSeries {
  readonly calls: Metric.Counter<number>
  readonly duration: Metric.Histogram<number>
}

/** The `error_type` of a JSON-RPC error an MCP handler rejected with (by code, a fixed set). */
export const protocolErrorType = (error: unknown): string => {
  if (error instanceof UnknownToolError) return "UnknownTool"
  const code = (error as { code?: unknown } | undefined)?.code
  switch (code) {
    case -32600:
      return "InvalidRequest"
    case -32601:
      return "MethodNotFound"
    case -32602:
      return "InvalidParams"
    case -32603:
      return "InternalError"
    case -32002:
      return "ResourceNotFound"
    default:
      return typeof code === "number" ? "ProtocolError" : "Internal"
  }
}

const noop = () => undefined

/**
 * `make(a, b)` made once per pair and kept; past MAX_LABELS values of `b` for one `a`, a new
 * one is `other`. Two map lookups per use, no key string built.
 */
const seriesBy = <V>(make: (a: string, b: string) => V) => {
  const byA = new Map<string, Map<string, V>>()
  const get = (a: string, b: string): V => {
    let byB = byA.get(a)
    if (byB === undefined) {
      byB = new Map()
      byA.set(a, byB)
    }
    let series = byB.get(b)
    if (series === undefined) {
      if (byB.size >= MAX_LABELS && b !== OTHER) return get(a, OTHER)
      series = make(a, b)
      byB.set(b, series)
    }
    return series
  }
  return get
}

export const off: CallMetrics = { enabled: false, start: () => 0n, toolCall: noop, operation: noop }

/** The recorder of the layer being built: into its MetricRegistry, on its Clock; `off` when metrics are. */
export const make: Effect.Effect<CallMetrics> = Effect.gen(function* () {
  if (!(yield* MetricsEnabled)) return off
  const clock = yield* Clock.Clock
  const context = yield* Effect.context<never>()
  const seconds = (startedAt: bigint) => Number(clock.monotonicTimeNanosUnsafe() - startedAt) / 1e9

  const toolSeries = seriesBy(
    (tool, outcome): ToolSeries => ({
      calls: Metrics.toolCallSeries({ tool, outcome }),
      duration: Metrics.operationSeries({
        mcp_method_name: "tools/call",
        gen_ai_tool_name: tool,
        error_type: outcome === "ok" ? "" : outcome
      })
    })
  )
  const operationSeries = seriesBy((method, errorType) =>
    Metrics.operationSeries({ mcp_method_name: method, gen_ai_tool_name: "", error_type: errorType })
  )

  return {
    enabled: true,
    start: () => clock.monotonicTimeNanosUnsafe(),
    toolCall: (tool, outcome, startedAt) => {
      const series = toolSeries(tool, outcome)
      series.calls.updateUnsafe(1, context)
      series.duration.updateUnsafe(seconds(startedAt), context)
    },
    operation: (method, errorType, startedAt) => {
      operationSeries(method, errorType).updateUnsafe(seconds(startedAt), context)
    }
  }
})

/**
 * `serve` (one MCP method's handler) with each request's duration recorded under `method`, and
 * its error type when it is refused. A `tools/call` that reached its tool is recorded by the
 * edge's call path (with the tool and outcome), so here only one refused before it.
 */
export const metered =
  <Q, C, A>(metricsOf: () => CallMetrics, method: string, serve: (request: Q, ctx: C) => Promise<A>) =>
  (request: Q, ctx: C): Promise<A> => {
    const metrics = metricsOf()
    if (!metrics.enabled) return serve(request, ctx)
    const startedAt = metrics.start()
    const refused = (error: unknown): never => {
      metrics.operation(method, protocolErrorType(error), startedAt)
      throw error
    }
    let answer: Promise<A>
    try {
      answer = serve(request, ctx)
    } catch (error) {
      answer = Promise.reject(error)
    }
    if (method === "tools/call") return answer.catch(refused)
    return answer.then((result) => {
      metrics.operation(method, "", startedAt)
      return result
    }, refused)
  }
