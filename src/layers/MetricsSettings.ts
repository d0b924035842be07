/**
 * Settings of the metrics: whether they are recorded at all, the loopback port
 * that serves them in stdio mode, and how the task queue depths are sampled.
 * Read once at start (flag > environment > default); a bad value is one line
 * naming the setting (exit 2).
 *
 * They reach the code that records as references with defaults (`layer`
 * provides the configured ones), so no recording layer needs a service for them:
 * `MetricsEnabled` (off: hot paths check it once, when their layer is built, and
 * everything else updates a registry that keeps nothing, so `/metrics` renders no
 * series) and `QueueDepthSettings`.
 */
import { Config, ConfigProvider, Context, Layer, Metric, Option } from "effect"

/** How `redis_mcp_task_queue_depth` is sampled (services/tasks/QueueDepth.ts). */
export interface QueueDepthSettings {
  /** Time between two rounds of `queue_stats` (REDIS_MCP_QUEUE_DEPTH_INTERVAL_MS). @default 15000 */
  readonly intervalMs: number
  /** Most queues counted in one round; the others wait for the next (REDIS_MCP_QUEUE_DEPTH_BATCH). @default 50 */
  readonly batch: number
  /**
   * Most queues on the gauge at once; a queue seen when it is full takes the place of the one
   * seen longest ago (REDIS_MCP_QUEUE_DEPTH_MAX_QUEUES). The gauge has at most 7 series per queue.
   * @default 100
   */
  readonly maxQueues: number
  /**
   * A queue whose tasks have not changed for this long, and that has no task waiting, delayed,
   * blocked or active, leaves the gauge (REDIS_MCP_QUEUE_DEPTH_IDLE_MS). @default 3600000 (1 hour)
   */
  readonly idleMs: number
}

export interface MetricsSettings {
  /** Record metrics (REDIS_MCP_METRICS=on|off). Off: nothing is recorded and `/metrics` has no series. @default true */
  readonly enabled: boolean
  /**
   * Serve `/healthz`, `/readyz` and `/metrics` on 127.0.0.1 at this port (REDIS_MCP_METRICS_PORT,
   * `--metrics-port`); 0 picks a free port (logged). @default undefined (no listener)
   */
  readonly port: number | undefined
  readonly queueDepth: QueueDepthSettings
}

const bad = (name: string, message: string) =>
  Config.fail(new ConfigProvider.SourceError({ message: `${name}: ${message}` }))

/** A whole number from `min` to `max` (digits only), or `fallback` when unset. */
const wholeNumber = (name: string, fallback: number, min: number, max: number) =>
  Config.String(name).pipe(
    Config.option,
    Config.flatMap((o) => {
      if (Option.isNone(o)) return Config.succeed(fallback)
      const n = /^\s*\d+\s*$/.test(o.value) ? Number(o.value) : Number.NaN
      return Number.isSafeInteger(n) && n >= min && n <= max
        ? Config.succeed(n)
        : bad(name, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(o.value)}`)
    })
  )

const SWITCH: Readonly<Record<string, boolean>> = {
  on: true,
  true: true,
  "1": true,
  off: false,
  false: false,
  "0": false
}

export const DEFAULT_QUEUE_DEPTH: QueueDepthSettings = {
  intervalMs: 15_000,
  batch: 50,
  maxQueues: 100,
  idleMs: 3_600_000
}

export const metricsSettingsConfig: Config.Config<MetricsSettings> = Config.all({
  enabled: Config.String("REDIS_MCP_METRICS").pipe(
    Config.withDefault("on"),
    Config.flatMap((raw) => {
      const value = SWITCH[raw.trim().toLowerCase()]
      return value === undefined ? bad("REDIS_MCP_METRICS", `"${raw}" is not on or off`) : Config.succeed(value)
    })
  ),
  port: Config.String("REDIS_MCP_METRICS_PORT").pipe(
    Config.option,
    Config.flatMap((o) => {
      if (Option.isNone(o) || o.value.trim() === "") return Config.succeed(undefined)
      const n = /^\s*\d+\s*$/.test(o.value) ? Number(o.value) : Number.NaN
      return n >= 0 && n <= 65535
        ? Config.succeed<number | undefined>(n)
        : bad("REDIS_MCP_METRICS_PORT", `expected a port from 0 to 65535, got ${JSON.stringify(o.value)}`)
    })
  ),
  queueDepth: Config.all({
    intervalMs: wholeNumber("REDIS_MCP_QUEUE_DEPTH_INTERVAL_MS", DEFAULT_QUEUE_DEPTH.intervalMs, 100, 3_600_000),
    batch: wholeNumber("REDIS_MCP_QUEUE_DEPTH_BATCH", DEFAULT_QUEUE_DEPTH.batch, 1, 10_000),
    maxQueues: wholeNumber("REDIS_MCP_QUEUE_DEPTH_MAX_QUEUES", DEFAULT_QUEUE_DEPTH.maxQueues, 1, 10_000),
    idleMs: wholeNumber("REDIS_MCP_QUEUE_DEPTH_IDLE_MS", DEFAULT_QUEUE_DEPTH.idleMs, 1000, 30 * 24 * 3_600_000)
  })
})

/** The metrics settings as a service (the entry point reads it; recording layers read the references below). */
export class MetricsConfig extends Context.Service<MetricsConfig, MetricsSettings>()("effect-redis-mcp/MetricsConfig") {
  static readonly layer = Layer.effect(MetricsConfig, metricsSettingsConfig)
}

/** Whether metrics are recorded; read by layers when they are built. On unless `layer` says otherwise. */
export const MetricsEnabled = Context.Reference<boolean>("effect-redis-mcp/MetricsEnabled", {
  defaultValue: () => true
})

/** How the queue depths are sampled; the defaults unless `layer` provides the configured ones. */
export const QueueDepthConfig = Context.Reference<QueueDepthSettings>("effect-redis-mcp/QueueDepthConfig", {
  defaultValue: () => DEFAULT_QUEUE_DEPTH
})

/** A registry that keeps no series: every update finds a series that does nothing, and nothing is rendered. */
class DiscardingRegistry extends Map<string, Metric.Metric.Metadata<any, any>> {
  static readonly series: Metric.Metric.Metadata<any, any> = {
    id: "discarded",
    type: "Gauge",
    description: undefined,
    attributes: undefined,
    hooks: { get: () => undefined, update: () => undefined, modify: () => undefined }
  }
  override get(_key: string) {
    return DiscardingRegistry.series
  }
  override set(_key: string, _value: Metric.Metric.Metadata<any, any>) {
    return this
  }
}

/** The settings for the recording layers: the queue-depth settings; when off, the flag and a registry that keeps nothing. */
export const layer = (settings: Pick<MetricsSettings, "enabled" | "queueDepth">): Layer.Layer<never> =>
  Layer.merge(
    Layer.succeed(QueueDepthConfig, settings.queueDepth),
    settings.enabled
      ? Layer.empty
      : Layer.mergeAll(
          Layer.succeed(MetricsEnabled, false),
          Layer.succeed(Metric.MetricRegistry, new DiscardingRegistry())
        )
  )
