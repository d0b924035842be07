/**
 * Background work of the features that are on, added by the edge rather than
 * started by services: the work that writes (the task sweep), none on a
 * read-only server; and the work that feeds the metrics (the queue depths),
 * none with REDIS_MCP_METRICS=off.
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
    const jobs = [
      ...backgroundOf(features, settings),
      ...((yield* MetricsEnabled) ? metricsWorkOf(features, settings) : [])
    ]
    yield* Effect.logDebug("background work", { toolsets: jobs.map((j) => j.toolset) })
    return jobs.reduce<Layer.Layer<never, never, Services>>((all, j) => Layer.merge(all, j.layer), Layer.empty)
  })
)
