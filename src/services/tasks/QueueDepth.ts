/**
 * `redis_mcp_task_queue_depth{queue, status}` as a Layer: the queues whose tasks
 * changed recently (the Tasks changes, each noted as it arrives: any server on the same store), at
 * start those registered in the store, are counted with `queue_stats` in
 * periodic rounds of at most `batch` queues — only those that changed since
 * their last count. At most `maxQueues` queues are on the gauge; an idle one
 * with nothing unfinished leaves it (RecentQueues.ts). It only reads, but the
 * edge adds it, as the task sweep, only to a server that may write; with
 * REDIS_MCP_METRICS=off it does nothing.
 */
import { Clock, Deferred, Duration, Effect, Layer, Schedule, Stream } from "effect"
import * as Metrics from "../../layers/Metrics.ts"
import { MetricsEnabled, QueueDepthConfig, type QueueDepthSettings } from "../../layers/MetricsSettings.ts"
import { Tasks } from "../Tasks.ts"
import { RecentQueues } from "./RecentQueues.ts"
import { type QueueStats, STATUSES, type TasksShape } from "./TaskModel.ts"

/** Counts that mean work is left in the queue. */
const UNFINISHED = ["waiting", "delayed", "blocked", "active"] as const

/**
 * The sampler on `tasks`, for as long as the calling scope lives. `listening` resolves once the
 * change listener listens (changes made before may be missed, unless the queue is seeded).
 */
export const run = (tasks: TasksShape, settings: QueueDepthSettings) =>
  Effect.gen(function* () {
    const recent = new RecentQueues(settings.maxQueues)
    const remove = (queues: ReadonlyArray<string>) =>
      Effect.forEach(queues, (queue) => Metrics.removeQueueDepth(queue, STATUSES), { discard: true })

    // Each change is noted where it arrives, with no Effect: a Map update and a clock read. Only a
    // queue dropped to make room (at most maxQueues are tracked) takes an Effect, to leave the gauge.
    const clock = yield* Clock.Clock
    const runFork = Effect.runForkWith(yield* Effect.context<never>())
    const seen = (queue: string) => {
      const dropped = recent.changed(queue, clock.currentTimeMillisUnsafe())
      if (dropped !== undefined) runFork(remove([dropped]))
    }

    // The queues registered in the store, once (retried each round until it works): a backlog nobody
    // has touched since the restart shows too. They fill free places only, never evicting a queue seen changing.
    let seeded = false
    const seed = Effect.gen(function* () {
      if (seeded) return
      const queues = yield* tasks.queues(settings.maxQueues)
      const now = yield* Clock.currentTimeMillis
      seeded = true
      for (const queue of queues) recent.learn(queue, now)
    }).pipe(Effect.ignore)

    const record = (stats: QueueStats) =>
      Effect.gen(function* () {
        const busy = UNFINISHED.some((status) => stats.counts[status] > 0)
        if (!recent.counted(stats.queue, busy)) return
        for (const status of STATUSES) {
          yield* Metrics.setQueueDepth({ queue: stats.queue, status }, stats.counts[status])
        }
      })

    const round = Effect.gen(function* () {
      yield* seed
      yield* remove(recent.expire(yield* Clock.currentTimeMillis, settings.idleMs))
      yield* Effect.forEach(
        recent.dirty(settings.batch),
        (queue) =>
          tasks.stats(queue).pipe(
            Effect.flatMap(record),
            Effect.catch(() => Effect.sync(() => recent.retry(queue)))
          ),
        { concurrency: 8, discard: true }
      )
    })

    const ready = yield* Deferred.make<void>()
    yield* tasks.watchChanges(seen).pipe(
      Stream.runForEach(() =>
        Effect.sync(() => {
          recent.markAllDirty()
          Deferred.doneUnsafe(ready, Effect.void)
        })
      ),
      Effect.forkScoped
    )
    yield* round.pipe(Effect.repeat(Schedule.spaced(Duration.millis(settings.intervalMs))), Effect.forkScoped)
    return { queues: recent, listening: Deferred.await(ready) }
  })

/** The sampler as a Layer over the Tasks service, with the `QueueDepthConfig` settings (nothing when metrics are off). */
export const layer: Layer.Layer<never, never, Tasks> = Layer.effectDiscard(
  Effect.gen(function* () {
    if (!(yield* MetricsEnabled)) return
    const queueDepth = yield* QueueDepthConfig
    yield* Effect.logDebug("task queue depth sampling started", { ...queueDepth })
    yield* run(yield* Tasks, queueDepth)
  })
)
