/**
 * The Redis side: the bench's own redis-server (test/support, free loopback
 * port), the data every server reads, and raw ioredis on it, the Redis ceiling.
 */
import { Redis } from "ioredis"
import { type RedisHandle, startRedis } from "../test/support/standalone.ts"
import type { Results } from "./results.ts"
import { type Live, runTargets, type Sizes } from "./run-targets.ts"
import { GET_KEY, ioredisOps, VALUE } from "./workloads.ts"

export const startBenchRedis = async (): Promise<{ redis: RedisHandle; version: string }> => {
  const redis = await startRedis()
  const client = redis.client()
  await client.set(GET_KEY, VALUE)
  const version = (await redis.info("server")).get("redis_version") ?? "unknown"
  client.disconnect()
  return { redis, version }
}

/** Raw ioredis in this process, measured target by target beside the servers (`interleave`). */
export const startIoredis = (results: Results, url: string, sizes: Sizes): Live => {
  const client = new Redis(url)
  const ops = ioredisOps(client)
  const at = { system: "ioredis", role: "ceiling", via: "RESP", section: "raw" } as const
  results.declare(at)
  return {
    name: "ioredis",
    has: (target) => ops[target] !== undefined,
    measure: (target) => runTargets(results, at, ops, [target], sizes),
    finish: async () => {
      client.disconnect()
    }
  }
}
