/**
 * Background work of the features that are on, added by the edge rather than
 * started by services, and none on a read-only server (a read-only server, often
 * under a read-only Redis user, sends nothing of its own): the work that writes
 * (the task sweep), and the work that feeds the metrics (the queue depths), the
 * latter not with REDIS_MCP_METRICS=off.
 */
import { Effect, Layer } from "effect"
import { MetricsEnabled } from "../layers/MetricsSettings.ts"
import type { Services } from "../services/Stack.ts"
import { features } from "../tools/index.ts"
import { McpConfig } from "./Settings.ts"
import { backgroundOf, metricsWorkOf } from "./Surface.ts"

export const layer = Layer.unwrap(
  Effect.gen(function* () {
    const settings = yield* McpConfig
    const jobs = backgroundOf(features, settings)
    const metrics = (yield* MetricsEnabled) ? metricsWorkOf(features, settings) : []
    yield* Effect.logDebug("background work", { toolsets: jobs.map((j) => j.toolset) })
    yield* Effect.logDebug("metrics work", { toolsets: metrics.map((j) => j.toolset) })
    return [...jobs, ...metrics].reduce<Layer.Layer<never, never, Services>>(
      (all, j) => Layer.merge(all, j.layer),
      Layer.empty
    )
  })
)
