/**
 * Redis streams: append-only logs with consumer groups (at-least-once delivery
 * with pending entries, acknowledgement and recovery of stuck work). `layer`
 * runs on Redis, `layerMemory` on the shared in-memory keyspace; both check
 * every id, count and value the same way before acting.
 */
import { Context, Layer } from "effect"
import { type KeysOf, withKeyGuard } from "./KeyNames.ts"
import { makeMemory } from "./streams/StreamsMemory.ts"
import { makeRedis } from "./streams/StreamsRedis.ts"
import type { StreamsShape } from "./streams/StreamTypes.ts"

export type * from "./streams/StreamTypes.ts"

const one = (input: { readonly key: string }) => [input.key]

/** The keys each call names, checked before it runs (KeyNames.ts). */
const streamKeys: KeysOf<StreamsShape> = {
  xadd: one,
  xrange: one,
  xread: (input) => input.streams.map((s) => s.key),
  xlen: (key) => [key],
  xdel: (key) => [key],
  xtrim: one,
  xgroupCreate: one,
  xreadgroup: one,
  xack: (key) => [key],
  xpending: one,
  xautoclaim: one,
  xinfo: one
}

export class Streams extends Context.Service<Streams, StreamsShape>()("effect-redis-mcp/Streams") {
  /** Backed by Redis (needs RedisClient, ServerConfig, RedisConfig). */
  static readonly layer = Layer.effect(Streams, makeRedis.pipe(withKeyGuard(streamKeys)))

  /** Backed by the in-memory store (needs MemoryStore, ServerConfig, RedisConfig). */
  static readonly layerMemory = Layer.effect(Streams, makeMemory.pipe(withKeyGuard(streamKeys)))
}
