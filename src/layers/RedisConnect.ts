/**
 * Builds the ioredis client for the configured topology. Every mode is created with
 * `lazyConnect` and with ioredis's own reconnect switched off, so that the one
 * Effect `Schedule` in `RedisClient` drives connecting and reconnecting, and
 * retries only what is safe to send twice.
 */
import { readFileSync } from "node:fs"
import type { ConnectionOptions } from "node:tls"
import { Redacted } from "effect"
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis"
import type { HostPort, RedisSettings } from "./Config.ts"
import { guardClusterStreamErrors, guardStreamErrors } from "./StreamErrors.ts"

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

/**
 * On the shared client every call is timed by the connection layer (RedisCalls), at most
 * the command timeout; ioredis's own per-command timer is only a backstop for what ioredis
 * sends by itself while a connection opens (the ready check), set later so that it never
 * decides a call's outcome, and off while the connection is ready (`backstopWhileOpening`).
 */
export const BACKSTOP_MS = 1000

const backstop = (s: RedisSettings) => s.commandTimeoutMs + BACKSTOP_MS

/** Options shared by every connection, whatever the topology. */
export const baseOptions = (s: RedisSettings, keyPrefix: string): LegacyOptions => {
  const tls = tlsOptions(s)
  const options: LegacyOptions = {
    replyMapping: "legacy",
    lazyConnect: true,
    // Our Schedule reconnects; ioredis must not stack its own retry loop on it.
    retryStrategy: () => null,
    // While disconnected ioredis fails at once instead of buffering without bound; RedisClient
    // holds calls itself, a bounded number for a bounded time (see `RedisClient.run`).
    // (A Cluster's node connections ignore this: see `clusterOptions`.)
    enableOfflineQueue: false,
    // Never re-send a command after its connection dropped: it may have run (no silent double writes).
    maxRetriesPerRequest: 0,
    connectTimeout: s.connectTimeoutMs,
    commandTimeout: s.commandTimeoutMs,
    // ioredis's own auto-pipelining is `on`; `busy` batches writes itself (WriteBatching.ts).
    enableAutoPipelining: s.autoPipelining === "on",
    autoResubscribe: false,
    maxLoadingRetryTime: s.commandTimeoutMs
  }
  if (keyPrefix !== "") options.keyPrefix = keyPrefix
  if (s.username !== undefined) options.username = s.username
  if (s.password !== undefined) options.password = Redacted.value(s.password)
  if (tls) options.tls = tls
  return options
}

/** ioredis's Cluster options: slot map refresh, reads, NAT, and no retry loop of its own. */
export const clusterOptions = (
  s: RedisSettings,
  keyPrefix: string
): ClusterOptions & { readonly redisOptions: LegacyOptions } => {
  const { keyPrefix: _nodesHaveNoPrefix, ...nodeBase } = baseOptions(s, keyPrefix)
  // A node's ready check would wait for as long as the node is LOADING, holding what its offline
  // queue took in meanwhile (see `enableOfflineQueue` below). Without it a node connection is ready
  // once its handshake answered, and a LOADING node answers each command with LOADING: a typed
  // RedisBusy at once (the command did not run). The Cluster's own check (CLUSTER INFO) stays on.
  const redisOptions: LegacyOptions = { ...nodeBase, enableReadyCheck: false, commandTimeout: backstop(s) }
  return {
    lazyConnect: true,
    // Our Schedule reconnects the whole cluster; a node that dies is dropped and found again by the slot refresh.
    clusterRetryStrategy: () => null,
    clusterNodeRetryStrategy: null,
    // ioredis always gives node connections an offline queue (its ConnectionPool overrides ours), so a
    // node connection opened on demand holds the commands sent during its handshake. With the Cluster's
    // own queue off, the Cluster refuses every command for a node that is still connecting (all but the
    // one that opened it) with "Connection is closed.", on a healthy cluster too. So it stays on. It is
    // still bounded: a node handshake lasts at most connectTimeout + commandTimeout (no ready check),
    // and a failed one ends the connection (no node retry) and rejects what it held, never sent. The
    // Cluster's own queue is only used while the Cluster is not ready, and RedisClient sends nothing
    // then (see `awaitConnection`); a Cluster that is lost ends (no cluster retry) and rejects it, unsent.
    enableOfflineQueue: true,
    enableReadyCheck: true,
    enableAutoPipelining: s.autoPipelining === "on",
    // A fresh list per client: RedisClient adds its Lua script commands to it.
    autoPipeliningIgnoredCommands: [],
    // The Cluster object applies the prefix once; its node connections must not apply it again.
    ...(keyPrefix === "" ? {} : { keyPrefix }),
    redisOptions,
    slotsRefreshInterval: s.slotsRefreshIntervalMs,
    slotsRefreshTimeout: s.slotsRefreshTimeoutMs,
    scaleReads: s.scaleReads,
    ...(Object.keys(s.natMap).length === 0 ? {} : { natMap: { ...s.natMap } }),
    // MOVED/ASK are routing, not failures: followed at once, at most this many times per command.
    maxRedirections: 16,
    retryDelayOnMoved: 0,
    // A closed connection or CLUSTERDOWN surfaces as an error instead of being re-sent by ioredis
    // (a command on a dropped connection may have run); RedisClient retries idempotent calls with
    // our Schedule and refreshes the slot map. TRYAGAIN cannot be switched off in ioredis: it is
    // re-sent at once (never executed, so safe) until maxRedirections, then surfaces the same way.
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 0,
    retryDelayOnTryAgain: 0
  }
}

/** A new, not yet connected client for the configured mode. */
export const makeClient = (s: RedisSettings, keyPrefix: string): RedisLike => {
  switch (s.mode) {
    case "cluster":
      return guardClusterStreamErrors(
        new Cluster(
          s.clusterNodes.map((n) => ({ host: n.host, port: n.port })),
          clusterOptions(s, keyPrefix)
        )
      )
    case "sentinel":
      return backstopWhileOpening(
        guardStreamErrors(new Redis({ ...sentinelOptions(s, keyPrefix, true), commandTimeout: backstop(s) })),
        s
      )
    default: {
      const { url, username, password } = standaloneUrl(s)
      const options: LegacyOptions = { ...baseOptions(s, keyPrefix), commandTimeout: backstop(s) }
      if (username !== undefined) options.username = username
      if (password !== undefined) options.password = password
      return backstopWhileOpening(guardStreamErrors(new Redis(url, options)), s)
    }
  }
}

/**
 * The backstop only guards what ioredis sends by itself while a connection opens (the
 * handshake, the ready check). Once the connection is ready every call is timed by
 * RedisCalls, so it is off (ioredis reads the option at each command: a timer and its
 * clearing saved per command) until the connection is lost. Cluster nodes keep theirs:
 * their connections open at any time.
 */
const backstopWhileOpening = (client: Redis, s: RedisSettings): Redis => {
  const options = client.options as { commandTimeout?: number | undefined }
  client.on("ready", () => {
    options.commandTimeout = undefined
  })
  client.on("close", () => {
    options.commandTimeout = backstop(s)
  })
  return client
}

/**
 * The standalone URL without its credentials, and the credentials to log in with:
 * REDIS_USERNAME and REDIS_PASSWORD win over the URL's user and password, each on
 * its own (ioredis, given both, would let the URL win; given an empty part in the
 * URL, it would use that).
 */
export const standaloneUrl = (
  s: RedisSettings
): { readonly url: string; readonly username: string | undefined; readonly password: string | undefined } => {
  const raw = s.url ?? "redis://127.0.0.1:6379"
  const parsed = new URL(raw)
  const fromUrl = (part: string) => (part === "" ? undefined : decodeURIComponent(part))
  const username = s.username ?? fromUrl(parsed.username)
  const password = s.password === undefined ? fromUrl(parsed.password) : Redacted.value(s.password)
  if (parsed.username === "" && parsed.password === "") return { url: raw, username, password }
  parsed.username = ""
  parsed.password = ""
  return { url: parsed.toString(), username, password }
}

/**
 * Sentinel mode: the sentinels name the primary at every (re)connect, and ioredis checks that it
 * answers ROLE master. With `failoverDetector` the client also listens for `+switch-master` and
 * drops its connection at once, so it follows a failover instead of writing to the old primary
 * until Sentinel demotes it.
 */
export const sentinelOptions = (s: RedisSettings, keyPrefix: string, failoverDetector: boolean): LegacyOptions => {
  const options: LegacyOptions = {
    ...baseOptions(s, keyPrefix),
    sentinels: s.sentinels.map((n) => ({ host: n.host, port: n.port })),
    name: s.sentinelMaster ?? "mymaster",
    role: "master",
    sentinelRetryStrategy: () => null,
    sentinelMaxConnections: 10,
    sentinelCommandTimeout: s.connectTimeoutMs,
    failoverDetector
  }
  if (s.sentinelUsername !== undefined) options.sentinelUsername = s.sentinelUsername
  if (s.sentinelPassword !== undefined) options.sentinelPassword = Redacted.value(s.sentinelPassword)
  // TLS settings apply to the data nodes; the sentinels themselves are reached over plain TCP.
  if (s.tls.enabled) options.enableTLSForSentinelMode = true
  return options
}

/** A connection of its own to one node (cluster: a node's reachable address), with the key prefix. */
export const nodeOptions = (s: RedisSettings, keyPrefix: string, node: HostPort): LegacyOptions => ({
  ...baseOptions(s, keyPrefix),
  host: node.host,
  port: node.port
})

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
