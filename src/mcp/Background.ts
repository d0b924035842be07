/**
 * Background work of the features that are on (the task sweep), added by the
 * edge rather than started by services: none on a read-only server.
 */
import { Effect, Layer } from "effect"
import type { Services } from "../services/Stack.ts"
import { features } from "../tools/index.ts"
import { McpConfig } from "./Settings.ts"
import { backgroundOf } from "./Surface.ts"

export const layer = Layer.unwrap(
  Effect.gen(function* () {
    const jobs = backgroundOf(features, yield* McpConfig)
    yield* Effect.logDebug("background work", { toolsets: jobs.map((j) => j.toolset) })
    return jobs.reduce<Layer.Layer<never, never, Services>>((all, j) => Layer.merge(all, j.layer), Layer.empty)
  })
)
