/**
 * Server-level, read-only operations: liveness, the connection's health, and
 * bounded views of the store (INFO by section, DBSIZE, SLOWLOG, CLIENT LIST,
 * topology, MEMORY USAGE). On a Cluster the per-node ones ask every primary and
 * put the answers together; on the memory layer they describe the in-memory store.
 * SLOWLOG never shows arguments (AdminViews); with a key prefix it shows only
 * entries on keys under the prefix, and CLIENT LIST only this server's connection.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { PermissionDenied, type RedisError } from "../Errors.ts"
import { type ClusterNode, parseClusterNodes, slotsCovered } from "../layers/ClusterNodes.ts"
import { ServerConfig } from "../layers/Config.ts"
import { type Health, memoryHealth, type PrimaryNode, RedisClient } from "../layers/RedisClient.ts"
import { type LatencyReport, parseLatencyLatest, summarizeSlowlog } from "./AdminLatency.ts"
import { type ClientInfo, parseClients, parseSlowlog, redactSlowlog, type SlowlogEntry, text } from "./AdminViews.ts"
import { CommandTable, infoFor } from "./CommandInfo.ts"
import { type Entry, MemoryStore } from "./MemoryStore.ts"

export type { ClientInfo, SlowlogEntry } from "./AdminViews.ts"

export interface PingResult {
  readonly pong: string
  readonly latencyMs: number
}

/** INFO sections the `info` tool may ask for (`default` is what a bare INFO returns). */
export const INFO_SECTIONS = [
  "default",
  "server",
  "clients",
  "memory",
  "persistence",
  "stats",
  "replication",
  "cpu",
  "commandstats",
  "errorstats",
  "cluster",
  "keyspace"
] as const
export type InfoSection = (typeof INFO_SECTIONS)[number]

export interface NodeInfo {
  readonly node: string
  /** Section name (lower case) → field → value, as INFO prints them. */
  readonly sections: Readonly<Record<string, Readonly<Record<string, string>>>>
}

export interface DbsizeResult {
  /** Keys in the database (every primary added up on a Cluster). */
  readonly keys: number
  readonly nodes: ReadonlyArray<{ readonly node: string; readonly keys: number }>
}

export interface ClientListResult {
  readonly clients: ReadonlyArray<ClientInfo>
  /** Connected clients in all (more than `clients` when truncated). */
  readonly total: number
  readonly truncated: boolean
}

export interface TopologyNode {
  /** Cluster node id; null outside a Cluster. */
  readonly id: string | null
  readonly address: string
  readonly role: "primary" | "replica"
  /** Address of the primary a replica follows; null for a primary. */
  readonly primary: string | null
  readonly slots: ReadonlyArray<readonly [number, number]>
  /** Health flags such as `fail`, `fail?`, `disconnected`, `link down`; empty when healthy. */
  readonly flags: ReadonlyArray<string>
}

export interface Topology {
  readonly mode: Health["mode"]
  readonly nodes: ReadonlyArray<TopologyNode>
  /** Cluster: how many of the 16384 slots a primary serves; null outside a Cluster. */
  readonly slotsCovered: number | null
}

export interface MemoryUsage {
  readonly key: string
  /** Bytes the key and its value take; null when the key does not exist. */
  readonly bytes: number | null
}

export interface AdminShape {
  /** Round trip to the store. */
  readonly ping: (message?: string) => Effect.Effect<PingResult, RedisError>
  /** The connection's state, last error, reconnect count and latency. */
  readonly health: Effect.Effect<Health>
  /** One INFO section of every primary. */
  /** With a key prefix, the keyspace section (every tenant's key counts) is left out, and asking for it is refused. */
  readonly info: (section: InfoSection) => Effect.Effect<ReadonlyArray<NodeInfo>, RedisError | PermissionDenied>
  /** Refused with a key prefix: it counts every key of the database, other tenants' included. */
  readonly dbsize: Effect.Effect<DbsizeResult, RedisError | PermissionDenied>
  /** The `count` most recent slow commands (newest first) of every primary, without their arguments. */
  readonly slowlog: (count: number) => Effect.Effect<ReadonlyArray<SlowlogEntry>, RedisError>
  /** Connected clients of every primary, at most `limit` (with a key prefix: this server's connection only). */
  readonly clientList: (limit: number) => Effect.Effect<ClientListResult, RedisError>
  readonly topology: Effect.Effect<Topology, RedisError>
  readonly memoryUsage: (key: string, samples?: number) => Effect.Effect<MemoryUsage, RedisError>
  /** Our per-command latencies, Redis's latency monitor, and the slow log per command name (at most `limit`). */
  readonly latency: (limit: number) => Effect.Effect<LatencyReport, RedisError>
}

/** `# Section` headers and `field:value` lines. */
export const parseInfo = (text: string): Record<string, Record<string, string>> => {
  const out: Record<string, Record<string, string>> = {}
  let current: Record<string, string> | undefined
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith("#")) {
      current = {}
      out[line.slice(1).trim().toLowerCase()] = current
    } else if (current !== undefined && line.includes(":")) {
      const at = line.indexOf(":")
      current[line.slice(0, at)] = line.slice(at + 1)
    }
  }
  return out
}

/** Rough bytes of an in-memory entry, counted the way MEMORY USAGE does (key, value, per-item overhead). */
const estimateBytes = (key: string, e: Entry): number => {
  const OVERHEAD = 16
  const base = 56 + Buffer.byteLength(key)
  switch (e.type) {
    case "string":
      return base + e.value.length
    case "hash":
      return base + [...e.value].reduce((n, [f, v]) => n + Buffer.byteLength(f) + v.length + OVERHEAD, 0)
    case "list":
      return base + e.value.reduce((n, v) => n + v.length + OVERHEAD, 0)
    case "set":
      return base + [...e.value].reduce((n, m) => n + Buffer.byteLength(m) + OVERHEAD, 0)
    case "zset":
      return base + [...e.value.keys()].reduce((n, m) => n + Buffer.byteLength(m) + 8 + OVERHEAD, 0)
    case "stream":
      return base + Buffer.byteLength(JSON.stringify(e.value, (_, v) => (typeof v === "bigint" ? String(v) : v)) ?? "")
  }
}

const MEMORY_NODE = "in-memory"

/** Slowlog entries read per node when a key prefix filters them (Redis keeps 128 by default). */
const SLOWLOG_SCAN = 1024

export class Admin extends Context.Service<Admin, AdminShape>()("effect-redis-mcp/Admin") {
  /** Backed by the Redis connection. */
  static readonly layer = Layer.effect(
    Admin,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      const table = yield* CommandTable
      const { limits, keyPrefix } = yield* ServerConfig
      const mode = redis.settings.mode

      /** `f` on every primary at once, each answer with the primary's address. */
      const onPrimaries = <A>(f: (node: PrimaryNode) => Effect.Effect<A, RedisError>) =>
        Effect.flatMap(redis.primaries, (nodes) =>
          Effect.forEach(nodes, (node) => f(node), { concurrency: "unbounded" })
        )
      const call = <A>(node: PrimaryNode, command: string, args: ReadonlyArray<string | number>) =>
        redis.runOnPrimary(node.slots[0]![0], command, (c) => c.call(command, [...args]) as Promise<A>, {
          idempotent: true
        })

      const clusterTopology = Effect.map(
        redis.run("CLUSTER NODES", (c) => c.call("CLUSTER", "NODES") as Promise<unknown>, { idempotent: true }),
        (reply): Topology => {
          const nodes = parseClusterNodes(text(reply))
          const byId = new Map<string, ClusterNode>(nodes.map((n) => [n.id, n]))
          return {
            mode,
            nodes: nodes.map((n) => ({
              id: n.id,
              address: n.address,
              role: n.role,
              primary: n.primaryId === null ? null : (byId.get(n.primaryId)?.address ?? n.primaryId),
              slots: n.slots,
              flags: n.link === "connected" ? n.flags : [...n.flags, n.link]
            })),
            slotsCovered: slotsCovered(nodes)
          }
        }
      )

      /** The node the client is on and what ROLE says around it: its replicas, or its primary. */
      const replicationTopology = Effect.gen(function* () {
        const [self] = yield* redis.primaries
        const address = self?.address ?? redis.settings.url ?? "unknown"
        const role = (yield* redis.run("ROLE", (c) => c.call("ROLE") as Promise<Array<unknown>>, {
          idempotent: true
        })).map((v) => (Array.isArray(v) ? v : text(v)))
        if (role[0] === "master") {
          const replicas = (role[2] ?? []) as Array<Array<unknown>>
          return {
            mode,
            nodes: [
              { id: null, address, role: "primary" as const, primary: null, slots: [], flags: [] },
              ...replicas.map(([host, port]) => ({
                id: null,
                address: `${text(host)}:${text(port)}`,
                role: "replica" as const,
                primary: address,
                slots: [],
                flags: []
              }))
            ],
            slotsCovered: null
          }
        }
        const primary = `${text(role[1])}:${text(role[2])}`
        return {
          mode,
          nodes: [
            {
              id: null,
              address,
              role: "replica" as const,
              primary,
              slots: [],
              flags: role[3] === "connected" ? [] : [`link ${text(role[3])}`]
            },
            { id: null, address: primary, role: "primary" as const, primary: null, slots: [], flags: [] }
          ],
          slotsCovered: null
        }
      })

      const slowlog = Effect.fn("Admin.slowlog")(function* (count: number) {
        // With a prefix, other tenants' entries are dropped: read Redis's whole log (128 entries by default) to find ours.
        const ask = keyPrefix === "" ? count : Math.max(count, SLOWLOG_SCAN)
        const perNode = yield* onPrimaries((node) =>
          Effect.map(call<unknown>(node, "SLOWLOG", ["GET", ask]), (reply) => parseSlowlog(node.address, reply))
        )
        const shown = yield* Effect.forEach(perNode.flat(), (entry) =>
          Effect.map(table.lookup(entry.args[0] ?? ""), (top) =>
            redactSlowlog(entry, top === undefined ? undefined : infoFor(top, entry.args), keyPrefix)
          )
        )
        return shown
          .filter((e): e is SlowlogEntry => e !== undefined)
          .sort((a, b) => b.timestamp - a.timestamp || b.id - a.id)
          .slice(0, count)
      })

      /** A count of the whole database would show other tenants' keys: refused under a key prefix. */
      const wholeDatabase = (what: string) =>
        Effect.fail(
          new PermissionDenied({
            message: `${what} counts every key of the database, other tenants' included, so it is refused on a server with a key prefix ("${keyPrefix}"). Use scan to walk the keys under the prefix.`
          })
        )

      return Admin.of({
        ping: Effect.fn("Admin.ping")(function* (message?: string) {
          const start = yield* Clock.currentTimeMillis
          const pong = yield* redis.run("PING", (c) => (message === undefined ? c.ping() : c.ping(message)), {
            idempotent: true
          })
          return { pong, latencyMs: (yield* Clock.currentTimeMillis) - start }
        }),
        health: redis.health,
        info: Effect.fn("Admin.info")(function* (section: InfoSection) {
          if (keyPrefix !== "" && section === "keyspace") return yield* wholeDatabase("INFO keyspace")
          const nodes = yield* onPrimaries((node) =>
            Effect.map(call<unknown>(node, "INFO", [section]), (reply) => ({
              node: node.address,
              sections: parseInfo(text(reply))
            }))
          )
          if (keyPrefix === "") return nodes
          return nodes.map(({ node, sections: { keyspace: _, ...rest } }) => ({ node, sections: rest }))
        }),
        dbsize: Effect.gen(function* () {
          if (keyPrefix !== "") return yield* wholeDatabase("dbsize")
          const nodes = yield* onPrimaries((node) =>
            Effect.map(call<number>(node, "DBSIZE", []), (keys) => ({ node: node.address, keys: Number(keys) }))
          )
          return { keys: nodes.reduce((n, x) => n + x.keys, 0), nodes }
        }).pipe(Effect.withSpan("Admin.dbsize")),
        slowlog,
        clientList: Effect.fn("Admin.clientList")(function* (limit: number) {
          const cap = Math.min(limit, limits.maxItems)
          // With a prefix, other clients (other tenants' addresses and names) are not ours to see.
          const sub = keyPrefix === "" ? "LIST" : "INFO"
          const all: Array<ClientInfo> = (yield* onPrimaries((node) =>
            Effect.map(call<unknown>(node, "CLIENT", [sub]), (reply) => parseClients(node.address, text(reply)))
          )).flat()
          return { clients: all.slice(0, cap), total: all.length, truncated: all.length > cap }
        }),
        topology: (mode === "cluster" ? clusterTopology : replicationTopology).pipe(Effect.withSpan("Admin.topology")),
        memoryUsage: Effect.fn("Admin.memoryUsage")(function* (key: string, samples?: number) {
          // ioredis knows MEMORY USAGE's key position: it adds the key prefix and routes by slot itself.
          const bytes = yield* redis.run(
            "MEMORY USAGE",
            (c) =>
              c.call("MEMORY", ["USAGE", key, ...(samples === undefined ? [] : ["SAMPLES", samples])]) as Promise<
                number | null
              >,
            { idempotent: true }
          )
          return { key, bytes: bytes === null ? null : Number(bytes) }
        }),
        latency: Effect.fn("Admin.latency")(function* (limit: number) {
          const [client, events, slow] = yield* Effect.all(
            [
              redis.latencies,
              onPrimaries((node) =>
                Effect.map(call<unknown>(node, "LATENCY", ["LATEST"]), (reply) =>
                  parseLatencyLatest(node.address, reply)
                )
              ),
              slowlog(SLOWLOG_SCAN)
            ],
            { concurrency: "unbounded" }
          )
          return {
            client,
            events: events.flat().sort((a, b) => b.maxMs - a.maxMs),
            slowCommands: summarizeSlowlog(slow, limit),
            slowEntries: slow.length
          }
        })
      })
    })
  ).pipe(Layer.provide(CommandTable.layer))

  /** No Redis: the in-memory store is always up, and these views describe it. */
  static readonly layerMemory = Layer.effect(
    Admin,
    Effect.gen(function* () {
      const store = yield* MemoryStore
      const keyspace = Effect.gen(function* () {
        const keys = yield* store.keys
        const entries = yield* Effect.forEach(keys, (k) => store.get(k))
        const expires = entries.filter((e) => e !== undefined && e.expiresAt !== null).length
        return { keys: keys.length, expires }
      })
      return Admin.of({
        ping: (message) => Effect.succeed({ pong: message ?? "PONG", latencyMs: 0 }),
        health: Effect.succeed(memoryHealth),
        info: (section) =>
          Effect.map(keyspace, ({ keys, expires }) => {
            const all: Record<string, Record<string, string>> = {
              server: { redis_mode: "memory", process_id: String(process.pid) },
              clients: { connected_clients: "0" },
              memory: { used_memory: String(process.memoryUsage().heapUsed) },
              replication: { role: "master", connected_slaves: "0" },
              keyspace: keys === 0 ? {} : { db0: `keys=${keys},expires=${expires},avg_ttl=0` }
            }
            const picked =
              section === "default" ? all : Object.fromEntries(Object.entries(all).filter(([name]) => name === section))
            return [{ node: MEMORY_NODE, sections: picked }]
          }),
        dbsize: Effect.map(keyspace, ({ keys }) => ({ keys, nodes: [{ node: MEMORY_NODE, keys }] })),
        slowlog: () => Effect.succeed([]),
        clientList: () => Effect.succeed({ clients: [], total: 0, truncated: false }),
        topology: Effect.succeed({
          mode: "memory",
          nodes: [{ id: null, address: MEMORY_NODE, role: "primary", primary: null, slots: [], flags: [] }],
          slotsCovered: null
        }),
        memoryUsage: (key) =>
          Effect.map(store.get(key), (entry) => ({
            key,
            bytes: entry === undefined ? null : estimateBytes(key, entry)
          })),
        latency: () =>
          Effect.succeed({
            client: {
              mode: "fixed",
              windowMs: 0,
              timeoutCapMs: 0,
              timeoutFloorMs: 0,
              lateReplyMaxMs: null,
              commands: []
            },
            events: [],
            slowCommands: [],
            slowEntries: 0
          })
      })
    })
  )
}
