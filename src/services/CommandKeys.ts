/**
 * Which keys and channels a raw command names, from Redis's own key specs
 * (COMMAND INFO, read as Redis reads them in getKeysUsingKeySpecs) and Redis's
 * table of commands with channels; in memory, from MemoryCommands' table in the
 * same shapes. A command whose keys cannot all be named from its arguments is
 * `Unscoped`, with the reason: one that works on the whole keyspace or server
 * (SCAN, FLUSHDB, INFO…), moves keys out of the database (MOVE, COPY … DB,
 * MIGRATE), runs a script, reads keys through patterns (SORT … BY/GET),
 * lists channels, or whose key specs are incomplete or unknown.
 *
 * The key prefix (CommandPolicy) and a role's key patterns are enforced from
 * this answer, so it errs towards `Unscoped`.
 */
import { Context, Effect, Layer } from "effect"
import type { RedisError } from "../Errors.ts"
import { type CommandInfo, CommandTable, infoFor, type KeySpec } from "./CommandInfo.ts"

/** A key named by a command: its index in the argument array (0 is the command name), and its spec's flags. */
export interface KeyRef {
  readonly index: number
  readonly name: string
  /** RO, RW, OW, RM and access, update, insert, delete (Redis's key spec flags). */
  readonly flags: ReadonlyArray<string>
}

/** A channel named by a command (PUBLISH, SPUBLISH, SUBSCRIBE, PUBSUB NUMSUB…). */
export interface ChannelRef {
  readonly index: number
  readonly name: string
}

export type CommandScope =
  | {
      readonly _tag: "Scoped"
      /** Every key the command touches, in argument order. */
      readonly keys: ReadonlyArray<KeyRef>
      /** Every channel it names. */
      readonly channels: ReadonlyArray<ChannelRef>
    }
  | {
      readonly _tag: "Unscoped"
      /** Why its keys or channels cannot be named, as the end of a sentence ("works on the whole keyspace"). */
      readonly reason: string
    }

export interface CommandKeysShape {
  /** The keys and channels of one command (`[name, ...args]`), or why they cannot be named. */
  readonly find: (args: ReadonlyArray<string>) => Effect.Effect<CommandScope, RedisError>
}

const unscoped = (reason: string): CommandScope => ({ _tag: "Unscoped", reason })

const SCRIPT = "runs a script, which may touch keys and channels it does not declare"
const KEYSPACE = "works on the whole keyspace, not on keys it names"
const OTHER_DB = "moves keys out of this database"

/** Commands that run (or manage) scripts, which may touch keys and channels they do not declare. */
export const SCRIPT_COMMANDS: ReadonlyArray<string> = [
  "EVAL",
  "EVAL_RO",
  "EVALSHA",
  "EVALSHA_RO",
  "FCALL",
  "FCALL_RO",
  "FUNCTION",
  "SCRIPT"
]

/** Decided by name alone, before any lookup, so every backing answers the same. */
const BY_NAME: ReadonlyMap<string, string> = new Map([
  ...SCRIPT_COMMANDS.map((n) => [n, SCRIPT] as const),
  ...["SCAN", "KEYS", "RANDOMKEY", "DBSIZE", "FLUSHDB", "FLUSHALL", "SWAPDB", "SELECT"].map(
    (n) => [n, KEYSPACE] as const
  ),
  ["MOVE", OTHER_DB],
  ["MIGRATE", "moves keys to another server"],
  ["PSUBSCRIBE", "subscribes to channel patterns"],
  ["PUNSUBSCRIBE", "names channel patterns"],
  ["PUBSUB CHANNELS", "lists the channels of every client"],
  ["PUBSUB SHARDCHANNELS", "lists the channels of every client"],
  ["PUBSUB NUMPAT", "counts the patterns of every client"],
  ["CLUSTER GETKEYSINSLOT", "lists keys by hash slot"],
  ["CLUSTER COUNTKEYSINSLOT", "counts keys by hash slot"]
])

/** The first words of BY_NAME's "NAME SUB" entries: only these need the subcommand looked up. */
const BY_NAME_CONTAINERS: ReadonlySet<string> = new Set(
  [...BY_NAME.keys()].filter((k) => k.includes(" ")).map((k) => k.split(" ")[0]!)
)

/** Commands naming channels, as Redis's own table has them (plus PUBSUB NUMSUB): first index, and whether the rest follow. */
const CHANNELS: ReadonlyMap<string, { readonly from: number; readonly rest: boolean }> = new Map([
  ["PUBLISH", { from: 1, rest: false }],
  ["SPUBLISH", { from: 1, rest: false }],
  ["SUBSCRIBE", { from: 1, rest: true }],
  ["SSUBSCRIBE", { from: 1, rest: true }],
  ["UNSUBSCRIBE", { from: 1, rest: true }],
  ["SUNSUBSCRIBE", { from: 1, rest: true }],
  ["PUBSUB NUMSUB", { from: 2, rest: true }],
  ["PUBSUB SHARDNUMSUB", { from: 2, rest: true }]
])

/**
 * Commands without keys that read nothing of other clients or of the keyspace: the
 * connection's own state, the command table, topology. Every other command without
 * keys (INFO aside, see `infoScope`) is taken as server-wide: CLIENT LIST, SLOWLOG,
 * MEMORY STATS, LATENCY…
 */
const NEUTRAL = new Set([
  "PING",
  "ECHO",
  "TIME",
  "LASTSAVE",
  "ROLE",
  "LOLWUT",
  "WAIT",
  "WAITAOF",
  "COMMAND",
  "CLIENT ID",
  "CLIENT GETNAME",
  "CLIENT INFO",
  "CLIENT GETREDIR",
  "CLIENT TRACKINGINFO",
  "ACL WHOAMI",
  "ACL CAT",
  "ACL GENPASS",
  "CLUSTER INFO",
  "CLUSTER MYID",
  "CLUSTER NODES",
  "CLUSTER SLOTS",
  "CLUSTER SHARDS",
  "CLUSTER KEYSLOT"
])

/** INFO sections that describe every tenant's keys. */
const INFO_KEYSPACE = new Set(["KEYSPACE", "ALL", "EVERYTHING", "DEFAULT"])

/** INFO without sections (or with keyspace, all, everything, default) counts every key of the database. */
const infoScope = (args: ReadonlyArray<string>): CommandScope =>
  args.length === 1 || args.slice(1).some((s) => INFO_KEYSPACE.has(s.toUpperCase()))
    ? unscoped("reports the keys of the whole database (name sections without keyspace, e.g. INFO server memory)")
    : { _tag: "Scoped", keys: [], channels: [] }

const STRICT_INT = /^-?\d{1,18}$/

/**
 * Key positions from key specs, as Redis computes them (getKeysUsingKeySpecs): a
 * spec whose keyword is absent names no key; one that is unknown, incomplete or out
 * of bounds makes the whole answer unknown (undefined). `not_key` specs (shard
 * channels) are skipped.
 */
export const keysFromSpecs = (
  specs: ReadonlyArray<KeySpec>,
  args: ReadonlyArray<string>
): ReadonlyArray<KeyRef> | undefined => {
  const argc = args.length
  const out: Array<KeyRef> = []
  for (const spec of specs) {
    if (spec.flags.includes("not_key")) continue
    let first = 0
    const begin = spec.begin
    if (begin.type === "index") first = begin.index
    else if (begin.type === "keyword") {
      const start = begin.startFrom > 0 ? begin.startFrom : argc + begin.startFrom
      const end = begin.startFrom > 0 ? argc - 1 : 1
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break
        if (args[i]!.toUpperCase() === begin.keyword.toUpperCase()) {
          first = i + 1
          break
        }
      }
      if (first === 0) continue
    } else return undefined
    let last: number
    let step: number
    const find = spec.find
    if (find.type === "range") {
      step = find.keyStep
      if (find.lastKey >= 0) last = first + find.lastKey
      else if (find.limit === 0) last = argc + find.lastKey
      else last = first + (Math.floor((argc - first) / find.limit) + find.lastKey)
    } else if (find.type === "keynum") {
      step = find.keyStep
      const at = first + find.keyNumIdx
      const raw = at < argc ? args[at]! : ""
      if (!STRICT_INT.test(raw) || Number(raw) < 0) return undefined
      first += find.firstKey
      last = first + Number(raw) - 1
    } else return undefined
    if (last >= argc || last < first || first >= argc || step < 1) return undefined
    for (let i = first; i <= last; i += step) out.push({ index: i, name: args[i]!, flags: spec.flags })
    if (spec.flags.includes("incomplete")) return undefined
  }
  return out
}

const sortKeys = (args: ReadonlyArray<string>): CommandScope => {
  // As Redis's sortGetKeys: LIMIT takes two arguments, BY and GET one; the last STORE names the destination.
  const keys: Array<KeyRef> = [{ index: 1, name: args[1]!, flags: ["RO", "access"] }]
  let store: number | undefined
  for (let i = 2; i < args.length; i++) {
    const word = args[i]!.toUpperCase()
    if (word === "LIMIT") i += 2
    else if (word === "BY" || word === "GET") {
      // A pattern with "*" reads other keys (one per element); without it, none.
      if ((args[i + 1] ?? "").includes("*")) return unscoped(`reads other keys through its ${word} pattern`)
      i += 1
    } else if (word === "STORE" && i + 1 < args.length) store = i + 1
  }
  if (store !== undefined) keys.push({ index: store, name: args[store]!, flags: ["OW", "update"] })
  return { _tag: "Scoped", keys, channels: [] }
}

const channelsOf = (entry: { readonly from: number; readonly rest: boolean }, args: ReadonlyArray<string>) => {
  const stop = entry.rest ? args.length : Math.min(args.length, entry.from + 1)
  const out: Array<ChannelRef> = []
  for (let i = entry.from; i < stop; i++) out.push({ index: i, name: args[i]! })
  return out
}

/**
 * Why a command cannot be scoped, when its name (or name and subcommand) alone says so, or
 * COPY's DB option: known without the command table, so every backing refuses these alike.
 */
export const unscopedByName = (args: ReadonlyArray<string>): string | undefined => {
  const name = (args[0] ?? "").toUpperCase()
  if (name === "COPY" && args.slice(3).some((a) => a.toUpperCase() === "DB")) return OTHER_DB
  const whole = BY_NAME.get(name)
  if (whole !== undefined || !BY_NAME_CONTAINERS.has(name)) return whole
  return BY_NAME.get(`${name} ${(args[1] ?? "").toUpperCase()}`)
}

/** The scope of one command, given the table entry of its command (or subcommand). */
export const scopeOf = (info: CommandInfo | undefined, args: ReadonlyArray<string>): CommandScope => {
  const name = (args[0] ?? "").toUpperCase()
  const full = info?.name.includes("|") === true ? `${name} ${(args[1] ?? "").toUpperCase()}` : name
  const byName = unscopedByName(args)
  if (byName !== undefined) return unscoped(byName)
  if (info === undefined) return unscoped("is a command this store does not know")
  if (name === "SORT" || name === "SORT_RO") return sortKeys(args)
  const channel = CHANNELS.get(full)
  const channels = channel === undefined ? [] : channelsOf(channel, args)
  if (info.keySpecs.every((s) => s.flags.includes("not_key"))) {
    if (channel !== undefined) return { _tag: "Scoped", keys: [], channels }
    if (name === "INFO") return infoScope(args)
    if (NEUTRAL.has(full) || NEUTRAL.has(name)) return { _tag: "Scoped", keys: [], channels: [] }
    return unscoped("names no key: it works on the whole server or keyspace")
  }
  const keys = keysFromSpecs(info.keySpecs, args)
  if (keys === undefined) return unscoped("has key positions Redis cannot tell from its arguments")
  return { _tag: "Scoped", keys, channels }
}

/** The command's scope from a table lookup (the subcommand's entry for container commands). */
const make = (table: CommandTable["Service"]): CommandKeysShape => ({
  find: Effect.fn("CommandKeys.find")(function* (args: ReadonlyArray<string>) {
    const byName = unscopedByName(args)
    if (byName !== undefined) return unscoped(byName)
    const top = yield* table.lookup(args[0] ?? "")
    return scopeOf(top === undefined ? undefined : infoFor(top, args), args)
  })
})

export class CommandKeys extends Context.Service<CommandKeys, CommandKeysShape>()("effect-redis-mcp/CommandKeys") {
  /** From Redis's COMMAND INFO key specs (cached per command name). */
  static readonly layer = Layer.effect(CommandKeys, Effect.map(CommandTable, make)).pipe(
    Layer.provide(CommandTable.layer)
  )

  /** From the in-memory command table. */
  static readonly layerMemory = Layer.effect(CommandKeys, Effect.map(CommandTable, make)).pipe(
    Layer.provide(CommandTable.layerMemory)
  )
}
