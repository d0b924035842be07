/**
 * The `admin` toolset: read-only views of the server and its store, each bounded.
 * `ping` and `health` are core (listed whatever the toolsets); the rest come with
 * `--toolsets admin`.
 */
import { Effect, Schema } from "effect"
import { Admin, INFO_SECTIONS } from "../services/Admin.ts"
import * as Feature from "./Feature.ts"
import { KeyName } from "./schemas.ts"
import * as Tool from "./Tool.ts"

const HealthOutput = Schema.Struct({
  mode: Schema.Literals(["memory", "standalone", "sentinel", "cluster"]),
  target: Schema.String,
  state: Schema.Literals(["connecting", "ready", "reconnecting", "closed", "memory"]),
  lastError: Schema.NullOr(Schema.String),
  lastErrorAt: Schema.NullOr(Schema.Finite),
  reconnects: Schema.Int,
  connectedSince: Schema.NullOr(Schema.Finite),
  latencyMs: Schema.NullOr(Schema.Finite)
})

const Node = Schema.String.annotate({ description: 'host:port of the node that answered ("in-memory" without Redis).' })
const SlotRange = Schema.Tuple([Schema.Int, Schema.Int]).annotate({ description: "Inclusive slot range [from, to]." })

export const ping = Tool.make({
  name: "ping",
  title: "Ping Redis",
  description:
    "Check that the server and its Redis store answer. Returns the reply and the round-trip time in milliseconds.",
  toolset: "admin",
  core: true,
  input: Schema.Struct({
    message: Schema.optionalKey(Schema.String.annotate({ description: "Text Redis should echo back instead of PONG." }))
  }),
  output: Schema.Struct({ pong: Schema.String, latencyMs: Schema.Finite }),
  hints: Tool.hints.read,
  touches: Tool.touches.nothing,
  handler: ({ message }) => Effect.flatMap(Admin, (a) => a.ping(message))
})

export const health = Tool.make({
  name: "health",
  title: "Connection health",
  description:
    "Report the Redis connection's health: mode (memory, standalone, sentinel, cluster), state (ready, reconnecting…), " +
    "the last error and when it happened (epoch ms), how often it reconnected, and the PING latency. Use it when other tools return RedisUnavailable or Timeout.",
  toolset: "admin",
  core: true,
  input: Tool.NoInput,
  output: HealthOutput,
  hints: Tool.hints.read,
  touches: Tool.touches.nothing,
  handler: () => Effect.flatMap(Admin, (a) => a.health)
})

export const info = Tool.make({
  name: "info",
  title: "Redis INFO",
  description:
    "Read one section of Redis INFO (server version, memory, clients, replication, stats…) as field/value pairs. " +
    "On a Cluster every primary answers, one entry per node. Ask for one section at a time; `default` is the usual overview " +
    "(several sections, a few KB per node). With a key prefix the keyspace section (every tenant's key counts) is left out, " +
    "and asking for it is refused.",
  toolset: "admin",
  input: Schema.Struct({
    section: Schema.optionalKey(
      Schema.Literals(INFO_SECTIONS).annotate({ description: "Which section to read. Default: default." })
    )
  }),
  output: Schema.Struct({
    nodes: Schema.Array(
      Schema.Struct({
        node: Node,
        sections: Schema.Record(Schema.String, Schema.Record(Schema.String, Schema.String)).annotate({
          description: "Section name (lower case) → field → value, exactly as INFO prints them."
        })
      })
    )
  }),
  hints: Tool.hints.read,
  // INFO keyspace (part of default too) counts every tenant's keys.
  touches: ({ section }) =>
    section === undefined || section === "default" || section === "keyspace" ? Tool.touches.serverWide() : {},
  handler: ({ section }) =>
    Effect.flatMap(Admin, (a) => Effect.map(a.info(section ?? "default"), (nodes) => ({ nodes })))
})

export const dbsize = Tool.make({
  name: "dbsize",
  title: "Count keys",
  description:
    "Count the keys in the database. On a Cluster the primaries' counts are added up and listed per node. Cheap: use it " +
    "instead of scanning to see how big the keyspace is. Refused (PermissionDenied) on a server with a key prefix, where " +
    "it would count other tenants' keys: scan the keys under the prefix instead.",
  toolset: "admin",
  input: Tool.NoInput,
  output: Schema.Struct({
    keys: Schema.Int.annotate({ description: "Keys in the database (every primary added up on a Cluster)." }),
    nodes: Schema.Array(Schema.Struct({ node: Node, keys: Schema.Int }))
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.serverWide,
  handler: () => Effect.flatMap(Admin, (a) => a.dbsize)
})

export const slowlog = Tool.make({
  name: "slowlog",
  title: "Slow commands",
  description:
    "List the most recent slow commands Redis logged (SLOWLOG GET), newest first: when (epoch ms), how long (microseconds), " +
    "the command's name, how many arguments and how many keys it had; never a key name, a value or the client. With a key " +
    "prefix, only commands whose keys are all under the prefix are listed. On a Cluster the primaries' logs are merged. " +
    "Use it to explain Timeout errors or latency.",
  toolset: "admin",
  input: Schema.Struct({
    count: Schema.optionalKey(
      Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 128 })).annotate({
        description: "Entries to return, 1 to 128. Default 10."
      })
    )
  }),
  output: Schema.Struct({
    entries: Schema.Array(
      Schema.Struct({
        node: Node,
        id: Schema.Int,
        timestamp: Schema.Finite.annotate({ description: "When the command ran, epoch ms." }),
        durationMicros: Schema.Int,
        command: Schema.Array(Schema.String).annotate({
          description: "The command's name, with its subcommand for container commands; never its arguments."
        }),
        argumentCount: Schema.Int.annotate({ description: "How many arguments it had." }),
        keyCount: Schema.NullOr(Schema.Int).annotate({
          description:
            "How many keys it named; null when that cannot be told (Redis cut its arguments, or the command is unknown)."
        })
      })
    )
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.serverWide,
  handler: ({ count }) => Effect.flatMap(Admin, (a) => Effect.map(a.slowlog(count ?? 10), (entries) => ({ entries })))
})

export const clientList = Tool.make({
  name: "client_list",
  title: "Connected clients",
  description:
    "List the clients connected to Redis (CLIENT LIST): id, age and idle time in seconds, database, flags, the last command's " +
    "name and the memory each connection holds; never a client's address or name. On a Cluster every primary's clients are " +
    "listed with their node. Capped by `limit`: `total` tells how many " +
    "there are and `truncated` whether some were left out. With a key prefix (a shared Redis) only this server's own " +
    "connection is listed: other clients are not ours to see.",
  toolset: "admin",
  input: Schema.Struct({
    limit: Schema.optionalKey(
      Schema.Int.check(Schema.isGreaterThan(0)).annotate({
        description: "Clients to return at most (also capped by the server's item limit). Default 100."
      })
    )
  }),
  output: Schema.Struct({
    clients: Schema.Array(
      Schema.Struct({
        node: Node,
        id: Schema.Int,
        ageSeconds: Schema.Int,
        idleSeconds: Schema.Int,
        db: Schema.Int,
        lastCommand: Schema.String.annotate({
          description: "The last command's name (get, client|list), never its arguments."
        }),
        flags: Schema.String.annotate({
          description: "Redis's client flags (N normal, P pub/sub, M primary, S replica…)."
        }),
        totalMemoryBytes: Schema.Int.annotate({ description: "Memory the connection holds in all (tot-mem)." }),
        queryBufferBytes: Schema.Int.annotate({ description: "Its query buffer (qbuf)." }),
        outputBufferBytes: Schema.Int.annotate({ description: "Its output buffers (omem)." })
      })
    ),
    total: Schema.Int,
    truncated: Schema.Boolean
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.serverWide,
  handler: ({ limit }) => Effect.flatMap(Admin, (a) => a.clientList(limit ?? 100))
})

export const topology = Tool.make({
  name: "topology",
  title: "Redis topology",
  description:
    "Show how the store is laid out: every node with its address, role (primary or replica), the primary a replica follows, " +
    "the hash slot ranges a Cluster primary serves, and health flags (fail, disconnected…). Standalone or Sentinel: the " +
    "connected node and its replicas. Use it after a failover, or to see which node holds which slots.",
  toolset: "admin",
  input: Tool.NoInput,
  output: Schema.Struct({
    mode: Schema.Literals(["memory", "standalone", "sentinel", "cluster"]),
    nodes: Schema.Array(
      Schema.Struct({
        id: Schema.NullOr(Schema.String).annotate({ description: "Cluster node id; null outside a Cluster." }),
        address: Schema.String,
        role: Schema.Literals(["primary", "replica"]),
        primary: Schema.NullOr(Schema.String).annotate({ description: "Address of the primary a replica follows." }),
        slots: Schema.Array(SlotRange),
        flags: Schema.Array(Schema.String).annotate({ description: "Health flags; empty when healthy." })
      })
    ),
    slotsCovered: Schema.NullOr(Schema.Int).annotate({
      description: "Cluster: slots (of 16384) some primary serves; fewer means part of the keyspace is down."
    })
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.nothing,
  handler: () => Effect.flatMap(Admin, (a) => a.topology)
})

export const memoryUsage = Tool.make({
  name: "memory_usage",
  title: "Memory of a key",
  description:
    "How many bytes a key and its value take in Redis (MEMORY USAGE); null when the key does not exist. For large " +
    "collections Redis samples some elements (`samples`, default 5; 0 counts them all, slowly). Without Redis it is an estimate.",
  toolset: "admin",
  input: Schema.Struct({
    key: KeyName.annotate({ description: "The key to measure." }),
    samples: Schema.optionalKey(
      Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 10_000 })).annotate({
        description: "Elements of a collection to sample; 0 means all. Default 5."
      })
    )
  }),
  output: Schema.Struct({
    key: Schema.String,
    bytes: Schema.NullOr(Schema.Int).annotate({ description: "Bytes used; null when the key does not exist." })
  }),
  hints: Tool.hints.read,
  touches: Tool.touches.key,
  handler: ({ key, samples }) => Effect.flatMap(Admin, (a) => a.memoryUsage(key, samples))
})

const Ms = Schema.NullOr(Schema.Finite)

export const latency = Tool.make({
  name: "latency",
  title: "Where the time goes",
  description:
    "Explain slow calls and Timeout errors in one answer: this server's own latency per Redis command over the last minute " +
    "(replies, p50/p99/max in ms, timeouts since start, and the timeout the next call gets — adaptive timeouts follow the " +
    "p99), Redis's latency monitor (LATENCY LATEST: empty unless the operator set latency-monitor-threshold), and the slow " +
    "log summed up per command name (count, worst and total microseconds; never arguments). For single slow-log entries " +
    "use slowlog.",
  toolset: "admin",
  input: Schema.Struct({
    limit: Schema.optionalKey(
      Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100 })).annotate({
        description: "Slow-log command names to list, 1 to 100. Default 10."
      })
    )
  }),
  output: Schema.Struct({
    client: Schema.Struct({
      mode: Schema.String.annotate({ description: "Timeouts: adaptive or fixed." }),
      windowMs: Schema.Finite,
      timeoutCapMs: Schema.Finite,
      timeoutFloorMs: Schema.Finite,
      lateReplyMaxMs: Ms.annotate({ description: "The slowest reply that came after its call had timed out." }),
      commands: Schema.Array(
        Schema.Struct({
          command: Schema.String,
          count: Schema.Int,
          p50Ms: Ms,
          p99Ms: Ms,
          maxMs: Ms,
          timeoutMs: Schema.Finite.annotate({ description: "The timeout the next call of this command gets." }),
          timeouts: Schema.Int.annotate({ description: "Calls of this command that timed out since start." })
        })
      )
    }),
    events: Schema.Array(
      Schema.Struct({
        node: Node,
        event: Schema.String,
        at: Schema.Finite.annotate({ description: "When Redis last saw it, epoch ms." }),
        latestMs: Schema.Finite,
        maxMs: Schema.Finite
      })
    ),
    slowCommands: Schema.Array(
      Schema.Struct({
        command: Schema.String,
        count: Schema.Int,
        maxMicros: Schema.Int,
        totalMicros: Schema.Int
      })
    ),
    slowEntries: Schema.Int.annotate({ description: "Slow-log entries summed up (under a key prefix: ours only)." })
  }),
  hints: Tool.hints.read,
  // Its slow-log summary reports on every client's commands, as slowlog does.
  touches: Tool.touches.serverWide,
  handler: ({ limit }) => Effect.flatMap(Admin, (a) => a.latency(limit ?? 10))
})

export const adminTools = [ping, health, info, dbsize, slowlog, latency, clientList, topology, memoryUsage]

export const adminFeature = Feature.make({ name: "admin", default: false, tools: adminTools })
