/**
 * How the commands of concurrent calls reach Redis (REDIS_AUTO_PIPELINING).
 *
 * `busy` (the default): a command sent while no other is in flight is written at
 * once; one sent while others are in flight waits for the end of the event loop's
 * turn, with every other command sent in that turn, and they leave in one write.
 * The client's sockets are corked until a `setImmediate` (all of a Cluster's ready
 * node connections: a command's node is not known before ioredis routes it), which
 * turns the turn's writes into one `writev`. The commands keep their order and their
 * replies their order: only the system calls are fewer. Measured over stdio with 16
 * calls in flight (`get`): Redis made 0.86–0.89 socket reads per call with `off`,
 * 0.16–0.18 with `busy` (docs/performance.md, auto-pipelining).
 *
 * `on`: ioredis's own auto-pipelining (an ioredis `Pipeline` per turn, each command
 * deferred to the end of the turn, a lone one too). `off`: every command written at
 * once, in its own write.
 */
import type { Writable } from "node:stream"
import { Cluster, type Redis } from "ioredis"
import type { AutoPipelining } from "./Config.ts"
import type { RedisLike } from "./RedisConnect.ts"

/** Told of every command sent on a connection `c`, and of its end (reply, failure or abandon). */
export interface WriteBatching {
  readonly before: (c: unknown) => void
  readonly after: (c: unknown) => void
}

const unbatched: WriteBatching = { before: () => {}, after: () => {} }

/** The sockets a command on `shared` may be written to now. */
const socketsOf = (shared: RedisLike): ReadonlyArray<Writable> => {
  const ready = (r: Redis): ReadonlyArray<Writable> => (r.status === "ready" ? [r.stream] : [])
  return shared instanceof Cluster ? shared.nodes("all").flatMap(ready) : ready(shared)
}

/** The batching of the commands sent on `shared` (other connections, e.g. dedicated ones, are left alone). */
export const writeBatching = (mode: AutoPipelining, shared: RedisLike): WriteBatching => {
  if (mode !== "busy") return unbatched
  let inFlight = 0
  let corked: ReadonlyArray<Writable> | undefined
  const uncork = () => {
    const sockets = corked ?? []
    corked = undefined
    for (const socket of sockets) socket.uncork()
  }
  return {
    before: (c) => {
      if (c !== shared) return
      if (inFlight > 0 && corked === undefined) {
        corked = socketsOf(shared)
        for (const socket of corked) socket.cork()
        setImmediate(uncork)
      }
      inFlight++
    },
    after: (c) => {
      if (c === shared) inFlight--
    }
  }
}
