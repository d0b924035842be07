/**
 * The Redis commands each toolset sends, with a representative call of each (the real key
 * shapes under the key prefix), for `doctor` to check against the server's ACL user. Commands
 * a Lua script runs are listed too: Redis checks each of them against the user when the
 * script runs, so `+evalsha` alone is not enough. test/integration/doctor-needs.test.ts
 * runs every tool on a real Redis and checks that each command it sent is listed here.
 */

export interface Need {
  /** The name ACL and INFO commandstats use: `set`, `xgroup|create`. */
  readonly name: string
  /** A representative call, for `ACL DRYRUN` or a queued-and-discarded probe. */
  readonly argv: ReadonlyArray<string>
  /**
   * Sent only by the toolset's write tools (a read-only server does not need it). Mostly
   * commands that change data, but also reads that only write scripts make (`TIME`, `HGET`…).
   */
  readonly write: boolean
}

/** Placeholders in the call templates, filled per server (key prefix) by `needsFor`. */
const slots = (prefix: string): Record<string, string> => ({
  "{k}": `${prefix}doctor:probe`,
  "{k2}": `${prefix}doctor:probe2`,
  "{task}": `${prefix}task:{doctor}:t:probe`,
  "{taskidx}": `${prefix}task:{doctor}:waiting`,
  "{queues}": `${prefix}task:queues`,
  "{doc}": `${prefix}state:{doctor}:doc:probe`,
  "{lock}": `${prefix}state:lock:{doctor}`,
  "{ch}": `${prefix}doctor`,
  "{pat}": `${prefix}doctor*`,
  "{changes}": `${prefix}state:changes`,
  "{taskchanges}": `${prefix}task:changes`,
  "{sha}": "0".repeat(40)
})

/** Commands whose ACL name includes their first argument. */
const CONTAINERS = new Set([
  "xgroup",
  "xinfo",
  "client",
  "config",
  "command",
  "memory",
  "slowlog",
  "cluster",
  "acl",
  "latency"
])

const W = true
const R = false
type Template = readonly [argv: string, write: boolean]

/** Every connection sends these (the ready check, the health probe). */
const CONNECTION: ReadonlyArray<Template> = [
  ["HELLO 2", R],
  ["PING", R],
  ["INFO server", R]
]

/**
 * Lua scripts go by EVALSHA, falling back to EVAL when Redis does not know the script yet (its
 * first run, or after a restart). Read tools use them too in most toolsets (those: `read`):
 * multi-value reads choose what fits the output cap inside a script before anything is sent.
 */
const scripts = (write: boolean): ReadonlyArray<Template> => [
  ["EVALSHA {sha} 1 {k}", write],
  ["EVAL return 1 {k}", write]
]

/** Per toolset. `batch` and `command` send what the agent asks for: only their own machinery is listed. */
const TOOLSETS: Readonly<Record<string, ReadonlyArray<Template>>> = {
  keys: [
    ["MULTI", W],
    ["EXEC", W],
    ["EXISTS {k}", R],
    ["STRLEN {k}", R],
    ["GET {k}", R],
    ["GETRANGE {k} 0 -1", R],
    ["TYPE {k}", R],
    ["PTTL {k}", R],
    ["HLEN {k}", R],
    ["LLEN {k}", R],
    ["SCARD {k}", R],
    ["ZCARD {k}", R],
    ["XLEN {k}", R],
    ["SCAN 0 MATCH * COUNT 10", R],
    ["SET {k} v", W],
    ["MSET {k} v {k2} v", W],
    ["DEL {k}", W],
    ["EXPIRE {k} 10", W],
    ["PERSIST {k}", W],
    ["RENAME {k} {k2}", W],
    ["RENAMENX {k} {k2}", W],
    ["INCRBY {k} 1", W],
    ...scripts(R)
  ],
  hash: [
    ["HGET {k} f", R],
    ["HSTRLEN {k} f", R],
    ["HEXISTS {k} f", R],
    ["HSCAN {k} 0 COUNT 10", R],
    ["TYPE {k}", R],
    ["HSET {k} f v", W],
    ["HDEL {k} f", W],
    ["HINCRBY {k} f 1", W],
    ["EXPIRE {k} 10", W],
    ...scripts(R)
  ],
  list: [
    ["LRANGE {k} 0 -1", R],
    ["LLEN {k}", R],
    ["TYPE {k}", R],
    ["LPUSH {k} v", W],
    ["RPUSH {k} v", W],
    ["LPOP {k}", W],
    ["RPOP {k}", W],
    ["EXPIRE {k} 10", W],
    ...scripts(R)
  ],
  set: [
    ["SSCAN {k} 0 COUNT 10", R],
    ["SISMEMBER {k} m", R],
    ["TYPE {k}", R],
    ["SADD {k} m", W],
    ["SREM {k} m", W],
    ["EXPIRE {k} 10", W],
    ...scripts(R)
  ],
  zset: [
    ["ZRANGE {k} 0 -1", R],
    ["ZCARD {k}", R],
    ["ZSCORE {k} m", R],
    ["TYPE {k}", R],
    ["ZADD {k} 1 m", W],
    ["ZREM {k} m", W],
    ["ZINCRBY {k} 1 m", W],
    ["EXPIRE {k} 10", W],
    ...scripts(R)
  ],
  stream: [
    ["XRANGE {k} - +", R],
    ["XREVRANGE {k} + -", R],
    ["XREAD STREAMS {k} 0", R],
    ["XLEN {k}", R],
    ["XPENDING {k} g", R],
    ["XINFO STREAM {k}", R],
    ["XINFO GROUPS {k}", R],
    ["XINFO CONSUMERS {k} g", R],
    ["TYPE {k}", R],
    ["XADD {k} * f v", W],
    ["XDEL {k} 0-1", W],
    ["XTRIM {k} MAXLEN 10", W],
    ["XGROUP CREATE {k} g $ MKSTREAM", W],
    ["XREADGROUP GROUP g c STREAMS {k} >", W],
    ["XACK {k} g 0-1", W],
    ["XAUTOCLAIM {k} g c 0 0", W],
    ...scripts(R)
  ],
  pubsub: [
    ["SUBSCRIBE {ch}", R],
    ["PSUBSCRIBE {pat}", R],
    ["PUBLISH {ch} m", W]
  ],
  task: [
    ["HGETALL {task}", R],
    ["SSCAN {queues} 0 COUNT 10", R],
    ["HGET {task} f", W],
    ["HMGET {task} f", R],
    ["SMEMBERS {queues}", W],
    ["ZCARD {taskidx}", R],
    ["ZRANGE {taskidx} 0 -1", R],
    ["ZREVRANGE {taskidx} 0 -1", R],
    ["ZRANGEBYSCORE {taskidx} 0 1", W],
    ["TIME", W],
    ["SADD {queues} q", W],
    ["HSET {task} f v", W],
    ["HDEL {task} f", W],
    ["HINCRBY {task} f 1", W],
    ["DEL {task}", W],
    ["PEXPIRE {task} 1000", W],
    ["ZADD {taskidx} 1 m", W],
    ["ZREM {taskidx} m", W],
    ["PUBLISH {taskchanges} q", W],
    ["SUBSCRIBE {taskchanges}", R],
    ...scripts(R)
  ],
  state: [
    ["HGET {doc} f", R],
    ["HMGET {doc} f", R],
    ["LRANGE {doc} 0 -1", R],
    ["PTTL {doc}", R],
    ["ZRANGEBYLEX {doc} - +", R],
    ["ZRANGEBYSCORE {doc} -inf 0", W],
    ["TIME", W],
    ["SUBSCRIBE {changes}", R],
    ["HSET {doc} f v", W],
    ["DEL {doc}", W],
    ["INCR {lock}", W],
    ["LPUSH {doc} v", W],
    ["LTRIM {doc} 0 1", W],
    ["PERSIST {doc}", W],
    ["PEXPIRE {doc} 1000", W],
    ["ZADD {doc} 0 m", W],
    ["ZREM {doc} m", W],
    ["PUBLISH {changes} m", W],
    ...scripts(R)
  ],
  admin: [
    ["INFO", R],
    ["DBSIZE", R],
    ["SLOWLOG GET 1", R],
    ["CLIENT LIST", R],
    ["ROLE", R],
    ["MEMORY USAGE {k}", R],
    ["LATENCY LATEST", R]
  ],
  batch: [
    ["COMMAND INFO get", R],
    ["STRLEN {k}", R],
    ["HSTRLEN {k} f", R],
    ["MULTI", R],
    ["EXEC", R]
  ],
  command: [
    ["COMMAND INFO get", R],
    ["STRLEN {k}", R],
    ["HSTRLEN {k} f", R]
  ]
}

/** The toolsets with an entry here (every toolset the server knows). */
export const KNOWN_TOOLSETS: ReadonlyArray<string> = Object.keys(TOOLSETS)

const toNeed = ([template, write]: Template, fill: Record<string, string>): Need => {
  const argv = template.split(" ").map((word) => fill[word] ?? word)
  const first = argv[0]!.toLowerCase()
  const name = CONTAINERS.has(first) && argv.length > 1 ? `${first}|${argv[1]!.toLowerCase()}` : first
  return { name, argv, write }
}

/** The commands of the connection itself and of each toolset, each listed once (connection first). */
export const needsFor = (
  toolsets: ReadonlyArray<string>,
  keyPrefix: string
): ReadonlyArray<{ readonly toolset: string; readonly needs: ReadonlyArray<Need> }> => {
  const fill = slots(keyPrefix)
  return [
    { toolset: "connection", needs: CONNECTION.map((t) => toNeed(t, fill)) },
    ...toolsets.map((toolset) => ({ toolset, needs: (TOOLSETS[toolset] ?? []).map((t) => toNeed(t, fill)) }))
  ]
}

/** The command names one toolset needs (for tests and docs). */
export const commandNames = (toolset: string): ReadonlyArray<string> =>
  [
    ...new Set((toolset === "connection" ? CONNECTION : (TOOLSETS[toolset] ?? [])).map((t) => toNeed(t, {}).name))
  ].sort()
