/**
 * The metric series of the service contract (SERVICE.md) as Effect `Metric`s, and
 * their Prometheus text rendering for `GET /metrics`.
 *
 * The names below are what operators' alert rules and dashboards query
 * (deploy/prometheus, deploy/grafana): they are rendered as they are, with no
 * prefix. Label values must stay bounded: tool names, error tags, command names,
 * configured queues, status codes — never keys, values or principals.
 * Record through the helpers, which fix each series' label names.
 */
import { Effect, Metric } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { MetricsEnabled } from "./MetricsSettings.ts"

/** Latency buckets (seconds): 100 µs to 60 s, for sub-ms Redis replies up to long blocking reads. */
export const LATENCY_BOUNDARIES: ReadonlyArray<number> = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
]

// ---------------------------------------------------------------------------
// MCP calls

/** Labels of `mcp_server_operation_duration_seconds` (OpenTelemetry MCP semantic conventions). */
export type OperationLabels = {
  /** The JSON-RPC method: `tools/call`, `tools/list`, `resources/read`, … */
  readonly mcp_method_name: string
  /** The tool name for `tools/call`, else "". */
  readonly gen_ai_tool_name: string
  /** The error tag when the operation failed, "" on success. */
  readonly error_type: string
}

export const operationDuration = Metric.histogram("mcp_server_operation_duration_seconds", {
  description: "Duration of MCP operations handled by the server, in seconds.",
  boundaries: LATENCY_BOUNDARIES
})

/** Labels of `redis_mcp_tool_calls_total`. */
export type ToolCallLabels = {
  readonly tool: string
  /** `ok`, or the error tag of the result (`InvalidArgument`, `RedisUnavailable`, …). */
  readonly outcome: string
}

export const toolCalls = Metric.counter("redis_mcp_tool_calls_total", {
  description: "Tool calls answered, by tool and outcome (ok or the error tag).",
  incremental: true
})

// ---------------------------------------------------------------------------
// Redis

export const redisCommandDuration = Metric.histogram("redis_mcp_redis_command_duration_seconds", {
  description: "Duration of Redis commands sent by the server, by lowercase command name, in seconds.",
  boundaries: LATENCY_BOUNDARIES
})

export const redisConnected = Metric.gauge("redis_mcp_redis_connected", {
  description: "1 while the connection to Redis is ready, 0 otherwise."
})

export const redisReconnects = Metric.counter("redis_mcp_redis_reconnects_total", {
  description: "Times the connection to Redis was lost and reconnecting began.",
  incremental: true
})

export const redisTimeouts = Metric.counter("redis_mcp_redis_timeouts_total", {
  description: "Redis commands that hit the command timeout.",
  incremental: true
})

export const redisFailovers = Metric.counter("redis_mcp_redis_failovers_total", {
  description:
    "Failovers observed: a new primary for the Sentinel master or for a Cluster slot range, or a READONLY reply.",
  incremental: true
})

export const clusterSlotsCovered = Metric.gauge("redis_mcp_cluster_slots_covered", {
  description: "Cluster hash slots (of 16384) served by a known primary in the last slot map; Cluster mode only."
})

// ---------------------------------------------------------------------------
// Pub/sub and queues

export const pubsubSubscriptions = Metric.gauge("redis_mcp_pubsub_subscriptions", {
  description: "Open pub/sub subscriptions."
})

/** Labels of `redis_mcp_task_queue_depth`. */
export type QueueDepthLabels = {
  readonly queue: string
  /** A `queue_stats` count: waiting, delayed, blocked, active, completed, failed (dead letters), cancelled. */
  readonly status: string
}

export const taskQueueDepth = Metric.gauge("redis_mcp_task_queue_depth", {
  description: "Tasks per queue and status, from periodic queue_stats over recently used queues."
})

// ---------------------------------------------------------------------------
// HTTP and auth

export const httpRequests = Metric.counter("redis_mcp_http_requests_total", {
  description: "HTTP requests answered, by status code.",
  incremental: true
})

export const authFailures = Metric.counter("redis_mcp_auth_failures_total", {
  description: "Requests refused for missing or invalid credentials, by reason.",
  incremental: true
})

// ---------------------------------------------------------------------------
// Audit log

export const auditDropped = Metric.counter("redis_mcp_audit_dropped_total", {
  description: "Audit lines dropped because the audit buffer was full (the sink could not keep up).",
  incremental: true
})

export const auditWriteErrors = Metric.counter("redis_mcp_audit_write_errors_total", {
  description: "Audit lines lost because writing them failed (disk full, file removed, stderr closed).",
  incremental: true
})

// ---------------------------------------------------------------------------
// Process (sampled by ProcessMetrics.layer)

export const processResidentMemory = Metric.gauge("process_resident_memory_bytes", {
  description: "Resident set size of the server process, in bytes."
})

export const processCpuSeconds = Metric.counter("process_cpu_seconds_total", {
  description: "User and system CPU time of the server process, in seconds.",
  incremental: true
})

export const eventLoopLag = Metric.gauge("nodejs_eventloop_lag_seconds", {
  description: "Mean event-loop delay over the last sampling interval, in seconds."
})

// ---------------------------------------------------------------------------
// Recording

// Each helper builds its label object itself: fixed names, fixed order, nothing extra.

/** Observe one MCP operation. */
export const recordOperation = (labels: OperationLabels, seconds: number) =>
  Metric.update(
    Metric.withAttributes(operationDuration, {
      mcp_method_name: labels.mcp_method_name,
      gen_ai_tool_name: labels.gen_ai_tool_name,
      error_type: labels.error_type
    }),
    seconds
  )

/** Count one answered tool call. */
export const countToolCall = (labels: ToolCallLabels) =>
  Metric.update(Metric.withAttributes(toolCalls, { tool: labels.tool, outcome: labels.outcome }), 1)

/** Observe one Redis command (`command`: lowercase name, e.g. `get`, `evalsha`). */
export const recordRedisCommand = (command: string, seconds: number) =>
  Metric.update(Metric.withAttributes(redisCommandDuration, { command }), seconds)

/**
 * The `redis_mcp_redis_command_duration_seconds` series of one command as a metric of its own
 * (the same series `recordRedisCommand` updates). The connection layer makes one per command
 * and keeps it, then records with `updateUnsafe(seconds, context)`: no label object, key or
 * Effect per call on its hot path.
 */
export const redisCommandSeries = (command: string): Metric.Histogram<number> =>
  Metric.histogram(redisCommandDuration.id, {
    description: redisCommandDuration.description,
    boundaries: LATENCY_BOUNDARIES,
    attributes: { command }
  })

/**
 * The `redis_mcp_tool_calls_total` series of one tool and outcome as a metric of its own, for
 * `updateUnsafe(1, context)` on the call path (as `redisCommandSeries`).
 */
export const toolCallSeries = (labels: ToolCallLabels): Metric.Counter<number> =>
  Metric.counter(toolCalls.id, {
    description: toolCalls.description,
    incremental: true,
    attributes: { tool: labels.tool, outcome: labels.outcome }
  })

/** The `redis_mcp_http_requests_total` series of one status code as a metric of its own. */
export const httpRequestSeries = (code: number): Metric.Counter<number> =>
  Metric.counter(httpRequests.id, {
    description: httpRequests.description,
    incremental: true,
    attributes: { code: String(code) }
  })

/** The `mcp_server_operation_duration_seconds` series of one label set as a metric of its own. */
export const operationSeries = (labels: OperationLabels): Metric.Histogram<number> =>
  Metric.histogram(operationDuration.id, {
    description: operationDuration.description,
    boundaries: LATENCY_BOUNDARIES,
    attributes: {
      mcp_method_name: labels.mcp_method_name,
      gen_ai_tool_name: labels.gen_ai_tool_name,
      error_type: labels.error_type
    }
  })

/** Set one queue's count for one status. */
export const setQueueDepth = (labels: QueueDepthLabels, tasks: number) =>
  Metric.update(Metric.withAttributes(taskQueueDepth, { queue: labels.queue, status: labels.status }), tasks)

/** Take a queue off the depth gauge (its series for each of `statuses`). */
export const removeQueueDepth = (queue: string, statuses: ReadonlyArray<string>) =>
  Effect.forEach(statuses, (status) => Metric.remove(Metric.withAttributes(taskQueueDepth, { queue, status })), {
    discard: true
  })

/** Count one HTTP response. */
export const countHttpRequest = (code: number) =>
  Metric.update(Metric.withAttributes(httpRequests, { code: String(code) }), 1)

/** Count one refused request (`reason`: a short fixed word such as `missing`, `invalid`, `expired`). */
export const countAuthFailure = (reason: string) => Metric.update(Metric.withAttributes(authFailures, { reason }), 1)

/**
 * Registers the unlabelled counters at 0 and no subscriptions, so `/metrics`
 * shows them (and `rate`/`increase` see their first increment) from the start.
 * `redis_mcp_redis_connected` is left to the connection layer: 0 would read as "down".
 */
export const initialize: Effect.Effect<void> = Effect.all(
  [
    Metric.update(redisReconnects, 0),
    Metric.update(redisTimeouts, 0),
    Metric.update(redisFailovers, 0),
    Metric.update(pubsubSubscriptions, 0),
    Metric.update(auditDropped, 0),
    Metric.update(auditWriteErrors, 0)
  ],
  { discard: true }
)

// ---------------------------------------------------------------------------
// Catalog and rendering

/** One exported series as Prometheus sees it. */
export interface Series {
  readonly name: string
  readonly type: "counter" | "gauge" | "histogram"
  readonly labels: ReadonlyArray<string>
  readonly help: string
}

const series = (metric: Metric.Metric<never, unknown>, labels: ReadonlyArray<string>): Series => ({
  name: metric.id,
  type: metric.type === "Counter" ? "counter" : metric.type === "Gauge" ? "gauge" : "histogram",
  labels,
  help: metric.description ?? ""
})

/** Every series the server exports, with its label names (docs and dashboard checks read this). */
export const catalog: ReadonlyArray<Series> = [
  series(operationDuration, ["mcp_method_name", "gen_ai_tool_name", "error_type"]),
  series(toolCalls, ["tool", "outcome"]),
  series(redisCommandDuration, ["command"]),
  series(redisConnected, []),
  series(redisReconnects, []),
  series(redisTimeouts, []),
  series(redisFailovers, []),
  series(clusterSlotsCovered, []),
  series(pubsubSubscriptions, []),
  series(taskQueueDepth, ["queue", "status"]),
  series(httpRequests, ["code"]),
  series(authFailures, ["reason"]),
  series(auditDropped, []),
  series(auditWriteErrors, []),
  series(processResidentMemory, []),
  series(processCpuSeconds, []),
  series(eventLoopLag, [])
]

/** The `Content-Type` of the rendering (Prometheus text format 0.0.4). */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

/** What `/metrics` says with REDIS_MCP_METRICS=off: a comment, which parsers skip. */
export const OFF_TEXT = "# metrics are off (REDIS_MCP_METRICS=off): nothing is recorded\n"

/** Every registered series in the Prometheus text format, names unchanged. */
export const render: Effect.Effect<string> = Effect.flatMap(MetricsEnabled, (enabled) =>
  enabled ? PrometheusMetrics.format() : Effect.succeed(OFF_TEXT)
)
