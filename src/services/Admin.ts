/**
 * Server-level operations: liveness and the connection's health.
 */
import { Clock, Context, Effect, Layer } from "effect"
import type { RedisError } from "../Errors.ts"
import { type Health, memoryHealth, RedisClient } from "../layers/RedisClient.ts"

export interface PingResult {
  readonly pong: string
  readonly latencyMs: number
}

export interface AdminShape {
  /** Round trip to the store. */
  readonly ping: (message?: string) => Effect.Effect<PingResult, RedisError>
  /** The connection's state, last error, reconnect count and latency. */
  readonly health: Effect.Effect<Health>
}

export class Admin extends Context.Service<Admin, AdminShape>()("effect-redis-mcp/Admin") {
  /** Backed by the Redis connection. */
  static readonly layer = Layer.effect(
    Admin,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      return Admin.of({
        ping: Effect.fn("Admin.ping")(function* (message?: string) {
          const start = yield* Clock.currentTimeMillis
          const pong = yield* redis.run("PING", (c) => (message === undefined ? c.ping() : c.ping(message)), {
            idempotent: true
          })
          return { pong, latencyMs: (yield* Clock.currentTimeMillis) - start }
        }),
        health: redis.health
      })
    })
  )

  /** No Redis: the in-memory store is always up. */
  static readonly layerMemory = Layer.succeed(
    Admin,
    Admin.of({
      ping: (message) => Effect.succeed({ pong: message ?? "PONG", latencyMs: 0 }),
      health: Effect.succeed(memoryHealth)
    })
  )
}
