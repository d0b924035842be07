/**
 * The task sweep as a Layer: a round of `Tasks.sweepDue` every second, each at
 * most SWEEP_BATCH queues, for as long as the layer lives. It writes to Redis,
 * so whoever composes the server adds it only when tasks are served and writes
 * are allowed; the Tasks service never starts it by itself.
 */
import { Duration, Effect, Layer, Schedule } from "effect"
import { Tasks } from "../Tasks.ts"
import { SWEEP_BATCH, SWEEP_INTERVAL_MS } from "./DueQueues.ts"

export const layer: Layer.Layer<never, never, Tasks> = Layer.effectDiscard(
  Effect.gen(function* () {
    const tasks = yield* Tasks
    yield* Effect.logDebug("task sweep started", { batch: SWEEP_BATCH, intervalMs: SWEEP_INTERVAL_MS })
    yield* tasks.sweepDue(SWEEP_BATCH).pipe(
      Effect.tap((round) => (round.visited > 0 ? Effect.logTrace("task sweep round", round) : Effect.void)),
      Effect.repeat(Schedule.spaced(Duration.millis(SWEEP_INTERVAL_MS))),
      Effect.forkScoped
    )
  })
)
