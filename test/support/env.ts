/**
 * Locating the Redis binaries and deciding whether integration tests can run.
 *
 * Binaries are looked up on PATH; set REDIS_BIN_DIR to use another install
 * (e.g. REDIS_BIN_DIR=/opt/redis/bin).
 */
import { spawnSync } from "node:child_process"
import { join } from "node:path"

export type RedisBinary = "redis-server" | "redis-sentinel" | "redis-cli"

/** Path (or bare name resolved through PATH) of a Redis binary. */
export const binary = (name: RedisBinary): string => {
  const dir = process.env.REDIS_BIN_DIR
  return dir !== undefined && dir !== "" ? join(dir, name) : name
}

/** True when `process.env.CI` is set to anything but "", "0" or "false". */
export const isCI = (): boolean => {
  const value = process.env.CI
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false"
}

/** Cached by resolved path, so changing REDIS_BIN_DIR takes effect. */
const cache = new Map<string, boolean>()

const works = (name: RedisBinary): boolean => {
  const path = binary(name)
  const cached = cache.get(path)
  if (cached !== undefined) return cached
  const result = spawnSync(path, ["--version"], { stdio: "ignore", timeout: 5000 })
  const ok = result.error === undefined && result.status === 0
  cache.set(path, ok)
  return ok
}

/**
 * True when redis-server, redis-sentinel and redis-cli can all be executed.
 * (`startCluster` needs redis-cli, `startSentinelSet` needs redis-sentinel.)
 */
export const redisAvailable = (): boolean => works("redis-server") && works("redis-sentinel") && works("redis-cli")

/**
 * Guard for integration suites.
 *  - Redis available: returns true.
 *  - Redis missing and CI set: throws, so the suite FAILS instead of skipping.
 *  - Redis missing locally: returns false. Suites call it and go on (never skip on it):
 *    starting redis-server then fails them, so a missing binary is never a silent skip.
 */
export const requireRedis = (): boolean => {
  if (redisAvailable()) return true
  const missing = (["redis-server", "redis-sentinel", "redis-cli"] as const).filter((name) => !works(name))
  const message =
    `Redis binaries not available (${missing.join(", ")}). Install Redis 7 ` +
    "(e.g. apt-get install redis-server redis-sentinel) or set REDIS_BIN_DIR."
  if (isCI()) throw new Error(`${message} Integration tests must not be skipped under CI.`)
  return false
}
