/**
 * What the raw `command` and `pipeline` tools may run. Checked before anything is
 * sent, in this order: commands that would corrupt the shared connection
 * (SUBSCRIBE, MULTI, SELECT…) never run; the deny list (configurable) refuses
 * with PermissionDenied; the command must exist with a valid subcommand and
 * arity; blocking commands are refused; a read-only server runs only what Redis
 * flags `readonly` (asked with COMMAND INFO, cached per command name).
 */
import { Context, Effect, Layer } from "effect"
import { InvalidArgument, PermissionDenied, ReadOnlyMode, type RedisError } from "../Errors.ts"
import { ServerConfig } from "../layers/Config.ts"
import { RedisClient } from "../layers/RedisClient.ts"
import { memoryCommandInfo, memoryCommandNames } from "./MemoryCommands.ts"

/** What COMMAND INFO says about one command (names in lower case, as Redis gives them). */
export interface CommandInfo {
  readonly name: string
  readonly arity: number
  readonly flags: ReadonlyArray<string>
  /** By subcommand name in lower case ("get" for CONFIG GET); empty for plain commands. */
  readonly subcommands: ReadonlyMap<string, CommandInfo>
}

export type PolicyError = InvalidArgument | PermissionDenied | ReadOnlyMode

/** The policy's answer for one command. */
export interface Verdict {
  /** Upper-case name, with the subcommand for container commands ("CONFIG GET"). */
  readonly command: string
  /** The command's flags as Redis reports them (empty when refused before the lookup). */
  readonly flags: ReadonlyArray<string>
  /** Redis flags the command `readonly`. */
  readonly readOnly: boolean
  /** Why it may not run; undefined when it may. */
  readonly refusal: PolicyError | undefined
}

/**
 * Refused by default; `REDIS_MCP_COMMAND_DENY` replaces the list, `REDIS_MCP_COMMAND_ALLOW` lifts entries.
 * MONITOR is refused with the connection-state commands below.
 */
export const DEFAULT_DENY: ReadonlyArray<string> = [
  "FLUSHALL",
  "FLUSHDB",
  "KEYS",
  "SHUTDOWN",
  "DEBUG",
  "SAVE",
  "SWAPDB",
  "MIGRATE",
  "MODULE",
  "REPLICAOF",
  "SLAVEOF",
  "FAILOVER",
  "CONFIG SET",
  "CONFIG REWRITE",
  "CONFIG RESETSTAT",
  "SCRIPT FLUSH",
  "SCRIPT KILL",
  "FUNCTION FLUSH",
  "FUNCTION KILL",
  "FUNCTION RESTORE",
  "CLIENT KILL",
  "CLIENT PAUSE",
  "ACL SETUSER",
  "ACL DELUSER",
  "ACL LOAD",
  "ACL SAVE",
  "CLUSTER RESET",
  "CLUSTER FAILOVER",
  "CLUSTER FORGET",
  "CLUSTER FLUSHSLOTS"
]

/** Commands that change the state of the shared connection: never run, whatever the lists say. */
export const CONNECTION_STATE: ReadonlyArray<string> = [
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "SSUBSCRIBE",
  "UNSUBSCRIBE",
  "PUNSUBSCRIBE",
  "SUNSUBSCRIBE",
  "MONITOR",
  "SELECT",
  "HELLO",
  "AUTH",
  "QUIT",
  "RESET",
  "MULTI",
  "EXEC",
  "DISCARD",
  "WATCH",
  "UNWATCH",
  "SYNC",
  "PSYNC",
  "READONLY",
  "READWRITE",
  "ASKING",
  "CLIENT REPLY",
  "CLIENT TRACKING",
  "CLIENT CACHING",
  "CLIENT SETNAME",
  "CLIENT SETINFO",
  "CLIENT NO-EVICT",
  "CLIENT NO-TOUCH"
]

/** Blocking without Redis's `blocking` flag. */
const BLOCKING_UNFLAGGED = new Set(["WAIT", "WAITAOF"])

/** A whole-command entry ("KEYS") or a subcommand entry ("CONFIG SET") matches. */
const matches = (entries: ReadonlySet<string>, name: string, sub: string | undefined) =>
  entries.has(name) || (sub !== undefined && entries.has(`${name} ${sub}`))

/** Denied by the lists: an allow entry (whole command or subcommand) lifts any deny entry. */
export const isDenied = (deny: ReadonlySet<string>, allow: ReadonlySet<string>, name: string, sub?: string) =>
  matches(deny, name, sub) && !matches(allow, name, sub)

/** XREAD / XREADGROUP are flagged blocking but only block with a BLOCK option (before STREAMS). */
const blocks = (name: string, args: ReadonlyArray<string>, flags: ReadonlyArray<string>) => {
  if (BLOCKING_UNFLAGGED.has(name)) return true
  if (!flags.includes("blocking")) return false
  if (name !== "XREAD" && name !== "XREADGROUP") return true
  const options = args.slice(1).map((a) => a.toUpperCase())
  const streams = options.indexOf("STREAMS")
  return (streams === -1 ? options : options.slice(0, streams)).includes("BLOCK")
}

/** Parse one COMMAND INFO entry (RESP2 array); undefined for nil (unknown command). */
export const parseCommandInfo = (entry: unknown): CommandInfo | undefined => {
  if (!Array.isArray(entry)) return undefined
  const [name, arity, flags, , , , , , , subs] = entry as Array<unknown>
  const subcommands = new Map<string, CommandInfo>()
  for (const s of Array.isArray(subs) ? subs : []) {
    const info = parseCommandInfo(s)
    if (info !== undefined) subcommands.set(info.name.slice(info.name.indexOf("|") + 1), info)
  }
  return {
    name: String(name).toLowerCase(),
    arity: Number(arity),
    flags: Array.isArray(flags) ? flags.map((f) => String(f).toLowerCase()) : [],
    subcommands
  }
}

export interface PolicyOptions {
  readonly deny: ReadonlyArray<string>
  readonly allow: ReadonlyArray<string>
  readonly readOnly: boolean
  /** COMMAND INFO of a command name (lower case); undefined when the backing does not know it. */
  readonly lookup: (name: string) => Effect.Effect<CommandInfo | undefined, RedisError>
  /** The refusal for a command the backing does not know. */
  readonly unknown: (name: string) => InvalidArgument
}

export interface CommandPolicyShape {
  /** The verdict on one command (`[name, ...args]`), refusal included; fails only when Redis cannot be asked. */
  readonly describe: (args: ReadonlyArray<string>) => Effect.Effect<Verdict, RedisError>
  /** The verdict on one command, failing with its refusal. */
  readonly check: (args: ReadonlyArray<string>) => Effect.Effect<Verdict, PolicyError | RedisError>
}

/** The policy for the given lists, mode and command lookup. */
export const makePolicy = (options: PolicyOptions): CommandPolicyShape => {
  const deny = new Set(options.deny)
  const allow = new Set(options.allow)
  const connectionState = new Set(CONNECTION_STATE)

  const describe = Effect.fn("CommandPolicy.describe")(function* (args: ReadonlyArray<string>) {
    const name = (args[0] ?? "").toUpperCase()
    const sub = args[1]?.toUpperCase()
    const refused = (command: string, refusal: PolicyError, flags: ReadonlyArray<string> = []): Verdict => ({
      command,
      flags,
      readOnly: flags.includes("readonly"),
      refusal
    })
    if (name.trim() === "") {
      return refused(
        name,
        new InvalidArgument({ message: 'The command is empty. Pass ["NAME", ...args], e.g. ["GET", "key"].' })
      )
    }
    if (matches(connectionState, name, sub)) {
      const what = connectionState.has(name) ? name : `${name} ${sub}`
      return refused(
        what,
        new InvalidArgument({
          message: `${what} changes the state of the server's shared Redis connection, so it never runs through command or pipeline. Use subscribe/read_messages for pub/sub, pipeline with atomic:true for MULTI/EXEC, and the server's REDIS_URL for the database.`
        })
      )
    }
    if (isDenied(deny, allow, name, sub)) {
      const what = matches(deny, name, undefined) ? name : `${name} ${sub}`
      return refused(
        what,
        new PermissionDenied({
          message: `${what} is on this server's command deny list. Use a dedicated tool or another command; an operator can lift it with REDIS_MCP_COMMAND_ALLOW="${what}".`
        })
      )
    }
    const top = yield* options.lookup(name.toLowerCase())
    if (top === undefined) return refused(name, options.unknown(name))
    let info = top
    let command = name
    if (top.subcommands.size > 0) {
      const found = sub === undefined ? undefined : top.subcommands.get(sub.toLowerCase())
      const known = [...top.subcommands.keys()].map((s) => s.toUpperCase()).join(", ")
      if (found === undefined) {
        return refused(
          sub === undefined ? name : `${name} ${sub}`,
          new InvalidArgument({
            message: `${name} needs a subcommand${sub === undefined ? "" : ` (${sub} is not one)`}. Known: ${known}.`
          })
        )
      }
      info = found
      command = `${name} ${sub}`
    }
    const arityOk = info.arity >= 0 ? args.length === info.arity : args.length >= -info.arity
    if (!arityOk) {
      const expected = info.arity >= 0 ? `exactly ${info.arity}` : `at least ${-info.arity}`
      return refused(
        command,
        new InvalidArgument({
          message: `Wrong number of arguments for ${command}: got ${args.length}, Redis expects ${expected} counting the command name. Fix the argument list.`
        }),
        info.flags
      )
    }
    if (blocks(name, args, info.flags)) {
      return refused(
        command,
        new InvalidArgument({
          message: `${command} can block, and a blocked call would stall the server's shared connection. Use the non-blocking form (LPOP instead of BLPOP, XREAD without BLOCK) or the dedicated tools (xread, xreadgroup, read_messages), which bound their waits.`
        }),
        info.flags
      )
    }
    if (options.readOnly && !info.flags.includes("readonly")) {
      return refused(
        command,
        new ReadOnlyMode({
          message: `${command} is not flagged read-only by Redis, and this server runs read-only (--read-only). Use a read-only command (GET, HGETALL, SCAN, EVAL_RO…), or ask an operator for a writable server.`
        }),
        info.flags
      )
    }
    return {
      command,
      flags: info.flags,
      readOnly: info.flags.includes("readonly"),
      refusal: undefined
    } satisfies Verdict
  })

  return {
    describe,
    check: (args) =>
      Effect.flatMap(describe(args), (v) => (v.refusal === undefined ? Effect.succeed(v) : Effect.fail(v.refusal)))
  }
}

export class CommandPolicy extends Context.Service<CommandPolicy, CommandPolicyShape>()(
  "effect-redis-mcp/CommandPolicy"
) {
  /** Flags from Redis's COMMAND INFO, cached per command name for the life of the layer. */
  static readonly layer = Layer.effect(
    CommandPolicy,
    Effect.gen(function* () {
      const redis = yield* RedisClient
      const { readOnly, commands } = yield* ServerConfig
      const cache = new Map<string, CommandInfo>()
      const lookup = (name: string) => {
        const cached = cache.get(name)
        if (cached !== undefined) return Effect.succeed(cached)
        return redis
          .run("COMMAND INFO", (c) => c.call("COMMAND", "INFO", name), { idempotent: true })
          .pipe(
            Effect.map((reply) => parseCommandInfo(Array.isArray(reply) ? reply[0] : undefined)),
            Effect.tap((info) => Effect.sync(() => info !== undefined && cache.set(name, info)))
          )
      }
      return CommandPolicy.of(
        makePolicy({
          deny: commands.deny ?? DEFAULT_DENY,
          allow: commands.allow,
          readOnly,
          lookup,
          unknown: (name) =>
            new InvalidArgument({
              message: `Redis does not know the command ${name}. Check the spelling (COMMAND DOCS lists them), or load the module that provides it.`
            })
        })
      )
    })
  )

  /** Flags from the in-memory command table (see MemoryCommands). */
  static readonly layerMemory = Layer.effect(
    CommandPolicy,
    Effect.map(ServerConfig, ({ readOnly, commands }) =>
      CommandPolicy.of(
        makePolicy({
          deny: commands.deny ?? DEFAULT_DENY,
          allow: commands.allow,
          readOnly,
          lookup: (name) => Effect.succeed(memoryCommandInfo(name)),
          unknown: (name) =>
            new InvalidArgument({
              message: `${name} is not supported by the in-memory store; it needs a real Redis (start the server with REDIS_URL). In memory: ${memoryCommandNames.join(", ")}.`
            })
        })
      )
    )
  )
}
