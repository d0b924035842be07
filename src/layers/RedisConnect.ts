/**
 * Builds the ioredis client for the configured topology. Every mode is created with
 * `lazyConnect` and with ioredis's own reconnect switched off, so that the one
 * Effect `Schedule` in `RedisClient` drives connecting and reconnecting.
 */
import { readFileSync } from "node:fs"
import type { ConnectionOptions } from "node:tls"
import { Redacted } from "effect"
import { Cluster, Redis, type RedisOptions } from "ioredis"
import type { RedisSettings } from "./Config.ts"

export type RedisLike = Redis | Cluster
type LegacyOptions = RedisOptions & { replyMapping: "legacy" }

const tlsOptions = (s: RedisSettings): ConnectionOptions | undefined => {
  if (!s.tls.enabled) return undefined
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file))
  const out: ConnectionOptions = { rejectUnauthorized: !s.tls.insecure }
  const ca = read(s.tls.caFile)
  const cert = read(s.tls.certFile)
  const key = read(s.tls.keyFile)
  if (ca) out.ca = ca
  if (cert) out.cert = cert
  if (key) out.key = key
  if (s.tls.servername) out.servername = s.tls.servername
  return out
}

/** Options shared by every connection, whatever the topology. */
export const baseOptions = (s: RedisSettings, keyPrefix: string): LegacyOptions => {
  const tls = tlsOptions(s)
  const options: LegacyOptions = {
    replyMapping: "legacy",
    lazyConnect: true,
    // Our Schedule reconnects; ioredis must not stack its own retry loop on it.
    retryStrategy: () => null,
    // While disconnected, fail fast instead of buffering commands without bound.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: s.connectTimeoutMs,
    commandTimeout: s.commandTimeoutMs,
    enableAutoPipelining: true,
    autoResubscribe: false,
    maxLoadingRetryTime: s.commandTimeoutMs
  }
  if (keyPrefix !== "") options.keyPrefix = keyPrefix
  if (s.username !== undefined) options.username = s.username
  if (s.password !== undefined) options.password = Redacted.value(s.password)
  if (tls) options.tls = tls
  return options
}

/** A new, not yet connected client for the configured mode. */
export const makeClient = (s: RedisSettings, keyPrefix: string): RedisLike => {
  const options = baseOptions(s, keyPrefix)
  switch (s.mode) {
    case "cluster": {
      const { keyPrefix: prefix, ...redisOptions } = options
      return new Cluster(
        s.clusterNodes.map((n) => ({ host: n.host, port: n.port })),
        {
          lazyConnect: true,
          clusterRetryStrategy: () => null,
          enableOfflineQueue: false,
          enableAutoPipelining: true,
          ...(prefix === undefined ? {} : { keyPrefix: prefix }),
          redisOptions,
          slotsRefreshInterval: s.slotsRefreshIntervalMs,
          slotsRefreshTimeout: s.slotsRefreshTimeoutMs,
          scaleReads: s.scaleReads,
          natMap: s.natMap,
          retryDelayOnFailover: 100,
          retryDelayOnClusterDown: 100,
          retryDelayOnTryAgain: 100,
          maxRedirections: 16
        }
      )
    }
    case "sentinel": {
      const sentinelOptions: LegacyOptions = {
        ...options,
        sentinels: s.sentinels.map((n) => ({ host: n.host, port: n.port })),
        name: s.sentinelMaster ?? "mymaster",
        sentinelRetryStrategy: () => null,
        sentinelMaxConnections: 10
      }
      if (s.sentinelUsername !== undefined) sentinelOptions.sentinelUsername = s.sentinelUsername
      if (s.sentinelPassword !== undefined) sentinelOptions.sentinelPassword = Redacted.value(s.sentinelPassword)
      if (s.tls.enabled) {
        sentinelOptions.enableTLSForSentinelMode = true
      }
      return new Redis(sentinelOptions)
    }
    default:
      return new Redis(s.url ?? "redis://127.0.0.1:6379", options)
  }
}

/** Where this client points, for logs and the health model (never includes secrets). */
export const describeTarget = (s: RedisSettings): string => {
  switch (s.mode) {
    case "cluster":
      return `cluster ${s.clusterNodes.map((n) => `${n.host}:${n.port}`).join(",")}`
    case "sentinel":
      return `sentinel ${s.sentinelMaster} via ${s.sentinels.map((n) => `${n.host}:${n.port}`).join(",")}`
    case "standalone": {
      const url = new URL(s.url ?? "redis://127.0.0.1:6379")
      return `${url.protocol}//${url.hostname}:${url.port || 6379}${url.pathname === "/" ? "" : url.pathname}`
    }
    default:
      return "in-memory"
  }
}
