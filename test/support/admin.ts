/**
 * One-shot admin connections (ioredis) used by the harness itself, plus
 * helpers to build client options and parse INFO output.
 */
import { Redis, type RedisOptions } from "ioredis"
import { HOST } from "./ports.ts"
import { type TlsFiles, tlsClientOptions } from "./tls.ts"

/** Where and how to reach one server. */
export interface Endpoint {
  readonly host: string
  readonly port: number
  readonly username?: string
  readonly password?: string
  readonly tls?: TlsFiles
}

/**
 * ioredis options without `replyMapping` (its `| undefined` does not fit the
 * constructor overloads under exactOptionalPropertyTypes).
 */
export type ClientOptions = Omit<RedisOptions, "replyMapping">

/** ioredis options for an endpoint (credentials and TLS included). */
export const clientOptions = (endpoint: Endpoint): ClientOptions => {
  const options: ClientOptions = { host: endpoint.host, port: endpoint.port }
  if (endpoint.username !== undefined) options.username = endpoint.username
  if (endpoint.password !== undefined) options.password = endpoint.password
  if (endpoint.tls !== undefined) options.tls = tlsClientOptions(endpoint.tls)
  return options
}

const noop = (): void => {}

/** Runs `fn` with a fresh, non-retrying connection that is always closed afterwards. */
export const withConnection = async <T>(
  endpoint: Endpoint,
  fn: (redis: Redis) => Promise<T>,
  timeoutMs = 3000
): Promise<T> => {
  const redis = new Redis({
    ...clientOptions(endpoint),
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    disconnectTimeout: 200,
    commandTimeout: timeoutMs
  })
  redis.on("error", noop)
  try {
    await redis.connect()
    return await fn(redis)
  } finally {
    redis.disconnect()
  }
}

/** Sends a single command on a fresh connection and returns the raw reply. */
export const command = (endpoint: Endpoint, name: string, ...args: (string | number)[]): Promise<unknown> =>
  withConnection(endpoint, (redis) => redis.call(name, args))

/** Parses `INFO` output into a flat key/value map. */
export const parseInfo = (text: string): Map<string, string> => {
  const map = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    if (line === "" || line.startsWith("#")) continue
    const index = line.indexOf(":")
    if (index > 0) map.set(line.slice(0, index), line.slice(index + 1))
  }
  return map
}

/** `INFO [section]` parsed into a map. */
export const info = async (endpoint: Endpoint, section?: string): Promise<Map<string, string>> => {
  const reply = await (section === undefined ? command(endpoint, "INFO") : command(endpoint, "INFO", section))
  return parseInfo(String(reply))
}

/** The first element of `ROLE` ("master", "slave" or "sentinel"), or undefined when unreachable. */
export const role = async (endpoint: Endpoint): Promise<string | undefined> => {
  try {
    const reply = (await command(endpoint, "ROLE")) as unknown[]
    return String(reply[0])
  } catch {
    return undefined
  }
}

/** Endpoint on the loopback interface with nothing but a port. */
export const loopback = (port: number): Endpoint => ({ host: HOST, port })

/** True when the endpoint is a replica whose link to its primary is up. */
export const replicaInSync = async (endpoint: Endpoint): Promise<boolean> => {
  const replication = await info(endpoint, "replication")
  return replication.get("role") === "slave" && replication.get("master_link_status") === "up"
}
