/**
 * How big a raw command's reply can be, before it is sent. Commands whose reply
 * is small by construction (an integer, a status, a score, one entry id) or no
 * bigger than their own arguments (ECHO, SMISMEMBER…) are listed here; every
 * other reply is taken as unbounded and read under a byte budget (see
 * `Batch`). Sizes are counted as Redis sends them (RESP), on both backings.
 */

/** Small replies, by upper-case name or "NAME SUBCOMMAND". */
const SMALL = new Set([
  "APPEND",
  "BITCOUNT",
  "BITFIELD",
  "BITFIELD_RO",
  "BITOP",
  "BITPOS",
  "COPY",
  "DBSIZE",
  "DECR",
  "DECRBY",
  "DEL",
  "ECHO",
  "EXISTS",
  "EXPIRE",
  "EXPIREAT",
  "EXPIRETIME",
  "GEOADD",
  "GEODIST",
  "GEOHASH",
  "GEOPOS",
  "GEOSEARCHSTORE",
  "GETBIT",
  "HDEL",
  "HEXISTS",
  "HINCRBY",
  "HINCRBYFLOAT",
  "HLEN",
  "HMSET",
  "HSET",
  "HSETNX",
  "HSTRLEN",
  "INCR",
  "INCRBY",
  "INCRBYFLOAT",
  "LASTSAVE",
  "LINSERT",
  "LLEN",
  "LPUSH",
  "LPUSHX",
  "LREM",
  "LSET",
  "LTRIM",
  "MOVE",
  "MSET",
  "MSETNX",
  "PERSIST",
  "PEXPIRE",
  "PEXPIREAT",
  "PEXPIRETIME",
  "PFADD",
  "PFCOUNT",
  "PFMERGE",
  "PING",
  "PSETEX",
  "PTTL",
  "PUBLISH",
  "RENAME",
  "RENAMENX",
  "RESTORE",
  "RPUSH",
  "RPUSHX",
  "SADD",
  "SCARD",
  "SDIFFSTORE",
  "SETBIT",
  "SETEX",
  "SETNX",
  "SETRANGE",
  "SINTERCARD",
  "SINTERSTORE",
  "SISMEMBER",
  "SMISMEMBER",
  "SMOVE",
  "SPUBLISH",
  "SREM",
  "STRLEN",
  "SUNIONSTORE",
  "TIME",
  "TOUCH",
  "TTL",
  "TYPE",
  "UNLINK",
  "WAIT",
  "XACK",
  "XADD",
  "XDEL",
  "XLEN",
  "XSETID",
  "XTRIM",
  "ZADD",
  "ZCARD",
  "ZCOUNT",
  "ZDIFFSTORE",
  "ZINCRBY",
  "ZINTERCARD",
  "ZINTERSTORE",
  "ZLEXCOUNT",
  "ZMSCORE",
  "ZRANGESTORE",
  "ZRANK",
  "ZREM",
  "ZREMRANGEBYLEX",
  "ZREMRANGEBYRANK",
  "ZREMRANGEBYSCORE",
  "ZREVRANK",
  "ZSCORE",
  "ZUNIONSTORE",
  "CLIENT ID",
  "CLIENT GETNAME",
  "CLUSTER KEYSLOT",
  "COMMAND COUNT",
  "MEMORY USAGE",
  "OBJECT ENCODING",
  "OBJECT FREQ",
  "OBJECT IDLETIME",
  "OBJECT REFCOUNT",
  "PUBSUB NUMPAT",
  "PUBSUB NUMSUB",
  "PUBSUB SHARDNUMSUB",
  "XGROUP CREATE",
  "XGROUP CREATECONSUMER",
  "XGROUP DELCONSUMER",
  "XGROUP DESTROY",
  "XGROUP SETID"
])

/** An option word among `args` from index `from` on (case-insensitive). */
const hasOption = (args: ReadonlyArray<string>, from: number, word: string) =>
  args.slice(from).some((a) => a.toUpperCase() === word)

/** The reply of `args` is small whatever the data: it can be read on the shared connection. */
export const smallReply = (args: ReadonlyArray<string>): boolean => {
  const name = (args[0] ?? "").toUpperCase()
  if (name === "SET") return !hasOption(args, 3, "GET")
  // LPOS with COUNT lists positions, as many as there are matches (COUNT 0: all of them).
  if (name === "LPOS") return !hasOption(args, 3, "COUNT")
  if (name === "SORT" || name === "SORT_RO") return hasOption(args, 2, "STORE")
  return SMALL.has(name) || SMALL.has(`${name} ${(args[1] ?? "").toUpperCase()}`)
}

/** No probe: one shared empty list (a pipeline of 1000 SETs asks 1000 times). */
const NO_PROBES: ReadonlyArray<ReadonlyArray<string>> = []

/**
 * Commands whose reply is a stored string, with the commands that give its length
 * (STRLEN, HSTRLEN): asked first, on the shared connection, so a read or a write whose
 * reply would be over the budget is refused before it is sent (and before a GETDEL or a
 * SET … GET changes anything). Other replies are only bounded while they are read.
 */
export const sizeProbes = (args: ReadonlyArray<string>): ReadonlyArray<ReadonlyArray<string>> => {
  const name = (args[0] ?? "").toUpperCase()
  switch (name) {
    case "GET":
    case "GETDEL":
    case "GETEX":
    case "GETSET":
      return [["STRLEN", args[1]!]]
    case "SET":
      return hasOption(args, 3, "GET") ? [["STRLEN", args[1]!]] : NO_PROBES
    case "MGET":
      return args.slice(1).map((k) => ["STRLEN", k])
    case "HGET":
      return [["HSTRLEN", args[1]!, args[2]!]]
    default:
      return NO_PROBES
  }
}

const digits = (n: number) => String(n).length

/** Bytes of a reply as Redis sends it (RESP2 framing), for replies held in memory. */
export const respSize = (reply: unknown): number => {
  if (reply === null || reply === undefined) return 5
  if (Buffer.isBuffer(reply)) return 5 + digits(reply.length) + reply.length
  if (typeof reply === "string") {
    const n = Buffer.byteLength(reply)
    return 5 + digits(n) + n
  }
  if (typeof reply === "number" || typeof reply === "bigint") return 3 + String(reply).length
  if (Array.isArray(reply)) return reply.reduce((n: number, r) => n + respSize(r), 3 + digits(reply.length))
  if (reply instanceof Error) return 3 + Buffer.byteLength(reply.message)
  return 3 + Buffer.byteLength(String(reply))
}

/** What to ask instead when a command's reply is over the budget. */
export const tooLargeHint = (name: string): string => {
  switch (name.toUpperCase()) {
    case "GET":
    case "GETEX":
    case "GETDEL":
    case "GETSET":
    case "SET":
    case "GETRANGE":
    case "SUBSTR":
      return "read a big value in parts with the get tool (offset/length) or GETRANGE key start end"
    case "HGETALL":
    case "HKEYS":
    case "HVALS":
    case "HMGET":
    case "HGET":
      return "page through the hash with HSCAN key cursor COUNT n, or read fewer fields"
    case "SMEMBERS":
    case "SINTER":
    case "SUNION":
    case "SDIFF":
      return "page through the set with SSCAN key cursor COUNT n"
    case "LRANGE":
    case "LPOP":
    case "RPOP":
      return "ask for a narrower range (LRANGE key 0 99) or a smaller COUNT"
    case "ZRANGE":
    case "ZRANGEBYSCORE":
    case "ZRANGEBYLEX":
    case "ZREVRANGE":
      return "ask for a narrower range or add LIMIT offset count"
    case "XRANGE":
    case "XREVRANGE":
    case "XREAD":
    case "XREADGROUP":
      return "add COUNT n (or use the xrange and xread tools)"
    case "MGET":
      return "ask for fewer keys per call"
    default:
      return "ask for less: a COUNT, a LIMIT or a narrower range, or a typed tool"
  }
}
