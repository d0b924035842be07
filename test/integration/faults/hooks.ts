/**
 * Vitest set-up shared by the scenarios that drive the built server: an AOF
 * redis-server (appendfsync always) and a probed server on it, for the whole
 * describe block. Kept apart from targets.ts, which scripts/soak.ts loads outside vitest.
 */
import { afterAll, beforeAll } from "@effect/vitest"
import { requireRedis } from "../../support/env.ts"
import { type RedisHandle, startRedis } from "../../support/standalone.ts"
import { type ProbedServer, startProbedServer } from "./targets.ts"

export interface AofTarget {
  readonly redis: () => RedisHandle
  readonly probed: () => ProbedServer
}

export const useProbedServerOnAofRedis = (): AofTarget => {
  let redis: RedisHandle | undefined
  let probed: ProbedServer | undefined
  beforeAll(async () => {
    requireRedis()
    redis = await startRedis({ aof: true })
    probed = await startProbedServer({ REDIS_URL: redis.url })
  })
  afterAll(async () => {
    await probed?.server.close()
    await redis?.dispose()
  })
  const started = <A>(a: A | undefined, what: string): A => {
    if (a === undefined) throw new Error(`${what} did not start`)
    return a
  }
  return { redis: () => started(redis, "redis-server"), probed: () => started(probed, "the built server") }
}
