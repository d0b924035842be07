/**
 * An ioredis pipeline as the raw-command backend uses it (RedisBackend.ts), and
 * how it is emptied once ioredis is done with it. The fields `release` empties are
 * ioredis internals (6.x): `test/unit/raw-pipeline.test.ts` checks on the installed
 * ioredis that they are still where the pipeline keeps its commands, replies and
 * promise, so an upgrade that renames them fails a test instead of quietly
 * bringing the promoted garbage back.
 */
import type { Command } from "ioredis"

/** What an ioredis pipeline accepts besides its generated methods, and the internals `release` empties. */
export interface RawPipeline {
  sendCommand(command: Command): unknown
  exec(): Promise<Array<[Error | null, unknown]> | null>
  /** Read by the pipeline's own `length` getter. */
  readonly length: number
  _queue: Array<unknown>
  _result: Array<unknown>
  promise: Promise<unknown> | undefined
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

const ignore = () => undefined

/**
 * Empties a pipeline ioredis is done with (its promise settled). ioredis gives every pipeline an
 * own `length` getter, a fresh closure over the pipeline, so V8 makes a hidden class for each one,
 * in old space: until the next full collection that class keeps the getter, the pipeline, its
 * commands and their replies alive, and every scavenge in between copies and then promotes them
 * (about 1 MiB per pipeline of 1000 SETs, dead on arrival in old space). Emptied, the pipeline
 * holds nothing of the call. Only ever after its promise settled: ioredis no longer reads these.
 */
export const release = (p: RawPipeline): void => {
  p._queue = []
  p._result = []
  p.promise = undefined
  p.resolve = ignore
  p.reject = ignore
}
