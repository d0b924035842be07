/**
 * Samples the process metrics of `Metrics.ts` in the background: resident memory
 * (`process.memoryUsage.rss`), CPU seconds (`process.cpuUsage`) and event-loop
 * lag (`perf_hooks.monitorEventLoopDelay`). Building the layer also registers
 * the server's unlabelled counters at 0 (`Metrics.initialize`), so the HTTP
 * transport provides this one layer to have a complete `/metrics`. With
 * REDIS_MCP_METRICS=off it does nothing.
 */

import { monitorEventLoopDelay } from "node:perf_hooks"
import { type Duration, Effect, Layer, Metric, Schedule } from "effect"
import * as Metrics from "./Metrics.ts"
import { MetricsEnabled } from "./MetricsSettings.ts"

/** The delay monitor's timer period (ms); its samples include it, so it is taken off. */
const RESOLUTION_MS = 10

/** Samples every `interval` (the first at build time) until the layer's scope closes. */
export const make = (interval: Duration.Input) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      if (!(yield* MetricsEnabled)) return
      yield* Metrics.initialize
      const delay = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
          histogram.enable()
          return histogram
        }),
        (histogram) => Effect.sync(() => histogram.disable())
      )
      let cpuSecondsSeen = 0
      const sample = Effect.suspend(() => {
        const cpu = process.cpuUsage()
        const cpuSeconds = (cpu.user + cpu.system) / 1e6
        const cpuDelta = cpuSeconds - cpuSecondsSeen
        cpuSecondsSeen = cpuSeconds
        const lag = delay.count > 0 ? Math.max(0, delay.mean / 1e9 - RESOLUTION_MS / 1000) : 0
        delay.reset()
        return Effect.all(
          [
            Metric.update(Metrics.processResidentMemory, process.memoryUsage.rss()),
            Metric.update(Metrics.processCpuSeconds, cpuDelta),
            Metric.update(Metrics.eventLoopLag, lag)
          ],
          { discard: true }
        )
      })
      yield* sample
      yield* sample.pipe(Effect.schedule(Schedule.spaced(interval)), Effect.forkScoped)
    })
  )

/** Samples every 5 seconds. */
export const layer = make("5 seconds")
