/**
 * Background work of the features that are on, added by the edge rather than
 * started by services, and none on a read-only server (a read-only server, often
 * under a read-only Redis user, sends nothing of its own): the work that writes
 * (the task sweep), and the work that feeds the metrics (the queue depths), the
 * latter only where `/metrics` can be read (the HTTP transport, or a stdio server
 * with a metrics port) and not with REDIS_MCP_METRICS=off: a stdio server nobody
 * can scrape keeps no subscription and does no sampling for it.
 */
import { Effect, Layer } from "effect"
import { MetricsConfig, MetricsEnabled } from "../layers/MetricsSettings.ts"
import type { Services } from "../services/Stack.ts"
import { features } from "../tools/index.ts"
import { McpConfig } from "./Settings.ts"
import { backgroundOf, metricsWorkOf } from "./Surface.ts"

export const layer = Layer.unwrap(
  Effect.gen(function* () {
    const settings = yield* McpConfig
    const jobs = backgroundOf(features, settings)
    const readable = settings.transport === "http" || (yield* MetricsConfig).port !== undefined
    const metrics = (yield* MetricsEnabled) && readable ? metricsWorkOf(features, settings) : []
    yield* Effect.logDebug("background work", { toolsets: jobs.map((j) => j.toolset) })
    yield* Effect.logDebug("metrics work", { toolsets: metrics.map((j) => j.toolset) })
    return [...jobs, ...metrics].reduce<Layer.Layer<never, never, Services>>(
      (all, j) => Layer.merge(all, j.layer),
      Layer.empty
    )
  })
)
