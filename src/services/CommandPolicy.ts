/**
 * What the raw `command` and `pipeline` tools may run. Checked before anything is
 * sent, in this order: commands that would corrupt the shared connection
 * (SUBSCRIBE, MULTI, SELECT…) never run; the deny list (configurable) refuses
 * with PermissionDenied; the command must exist with a valid subcommand and
 * arity; blocking commands are refused; a read-only server runs only what Redis
 * flags `readonly` (asked with COMMAND INFO, cached per command name); nothing
 * publishes on the server's own channels; and with a key prefix, only commands
 * whose keys and channels are all named by their arguments run, with the prefix
 * in front of each (PrefixScope).
 */
import { Context, Effect, Layer } from "effect"
import { InvalidArgument, PermissionDenied, ReadOnlyMode, type RedisError } from "../Errors.ts"
import { ServerConfig } from "../layers/Config.ts"
import { ReadOnly } from "./Access.ts"
import { type CommandInfo, CommandTable } from "./CommandInfo.ts"
import { scopeOf, unscopedByName } from "./CommandKeys.ts"
import { CONNECTION_STATE, DEFAULT_DENY, INTERNAL_CHANNELS } from "./CommandLists.ts"
import { internalFamily, reservedKeyMessage } from "./KeyNames.ts"
import { prefixHint, underPrefix } from "./PrefixScope.ts"

export { CONNECTION_STATE, DEFAULT_DENY } from "./CommandLists.ts"

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
  /** The arguments to send: the command's own, with the key prefix in front of its keys and channels. */
  readonly send: ReadonlyArray<string>
  /** The keys it names, as sent (prefix included); empty when they cannot be named. */
  readonly keys: ReadonlyArray<string>
}

/** Blocking without Redis's `blocking` flag. */
const BLOCKING_UNFLAGGED = new Set(["WAIT", "WAITAOF"])

/** A whole-command entry ("KEYS") or a subcommand entry ("CONFIG SET") matches. */
const matches = (entries: ReadonlySet<string>, name: string, sub: string | undefined) =>
  entries.has(name) || (sub !== undefined && entries.has(`${name} ${sub}`))

/** A set of entries with the first words of its subcommand entries, so most commands need no "NAME SUB" string. */
interface Entries {
  readonly all: ReadonlySet<string>
  readonly containers: ReadonlySet<string>
}
const entriesOf = (list: Iterable<string>): Entries => {
  const all = new Set(list)
  return { all, containers: new Set([...all].filter((e) => e.includes(" ")).map((e) => e.split(" ")[0]!)) }
}
/** `matches`, building the subcommand entry only for a name that has some. */
const matchesIn = (entries: Entries, name: string, sub: string | undefined) =>
  entries.all.has(name) || (sub !== undefined && entries.containers.has(name) && entries.all.has(`${name} ${sub}`))
const isDeniedIn = (deny: Entries, allow: Entries, name: string, sub: string | undefined) =>
  matchesIn(deny, name, sub) && !matchesIn(allow, name, sub)

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

export interface PolicyOptions {
  readonly deny: ReadonlyArray<string>
  readonly allow: ReadonlyArray<string>
  /** Refuse writes always; when absent, the per-call `ReadOnly` reference decides (the edge sets it per session). */
  readonly readOnly?: boolean
  /** The server's key prefix ("" for none): commands that cannot be kept under it are refused. */
  readonly keyPrefix: string
  /** Put the prefix in front of keys and channels (Redis); false where the keyspace is the server's own (memory). */
  readonly rewrite: boolean
  /** COMMAND INFO of a command name; undefined when the backing does not know it. */
  readonly lookup: (name: string) => Effect.Effect<CommandInfo | undefined, RedisError>
  /** The refusal for a command the backing does not know. */
  readonly unknown: (name: string) => InvalidArgument
}

export interface CommandPolicyShape {
  /** The verdict on one command (`[name, ...args]`), refusal included; fails only when Redis cannot be asked. */
  readonly describe: (args: ReadonlyArray<string>) => Effect.Effect<Verdict, RedisError>
  /**
   * The verdicts on `commands` in order, up to and including the first refused one (its
   * verdict is the last): each command name is looked up once, the checks run synchronously.
   */
  readonly describeAll: (
    commands: ReadonlyArray<ReadonlyArray<string>>
  ) => Effect.Effect<ReadonlyArray<Verdict>, RedisError>
  /** The verdict on one command, failing with its refusal. */
  readonly check: (args: ReadonlyArray<string>) => Effect.Effect<Verdict, PolicyError | RedisError>
}

/** The policy for the given lists, mode, key prefix and command lookup. */
export const makePolicy = (options: PolicyOptions): CommandPolicyShape => {
  const prefix = options.keyPrefix

  const outsidePrefix = (what: string, reason: string, name: string) =>
    new PermissionDenied({
      message: `${what} ${reason}, so it cannot be kept under this server's key prefix ("${prefix}") and is refused. ${prefixHint(name)}`
    })

  const deny = entriesOf(options.deny)
  const allow = entriesOf(options.allow)
  const connectionState = entriesOf(CONNECTION_STATE)

  const refused = (
    args: ReadonlyArray<string>,
    command: string,
    refusal: PolicyError,
    flags: ReadonlyArray<string> = []
  ): Verdict => ({
    command,
    flags,
    readOnly: flags.includes("readonly"),
    refusal,
    send: args,
    keys: []
  })

  /** The checks decided by the name and arguments alone: a refusal, or undefined to go on to the lookup. */
  const early = (args: ReadonlyArray<string>, name: string, sub: string | undefined): Verdict | undefined => {
    if (name.trim() === "") {
      return refused(
        args,
        name,
        new InvalidArgument({ message: 'The command is empty. Pass ["NAME", ...args], e.g. ["GET", "key"].' })
      )
    }
    if (matchesIn(connectionState, name, sub)) {
      const what = connectionState.all.has(name) ? name : `${name} ${sub}`
      return refused(
        args,
        what,
        new InvalidArgument({
          message: `${what} changes the state of the server's shared Redis connection, so it never runs through command or pipeline. Use subscribe/read_messages for pub/sub, pipeline with atomic:true for MULTI/EXEC, and the server's REDIS_URL for the database.`
        })
      )
    }
    if (isDeniedIn(deny, allow, name, sub)) {
      const what = deny.all.has(name) ? name : `${name} ${sub}`
      return refused(
        args,
        what,
        new PermissionDenied({
          message: `${what} is on this server's command deny list. Use a dedicated tool or another command; an operator can lift it with REDIS_MCP_COMMAND_ALLOW="${what}".`,
          reason: "deny_list"
        })
      )
    }
    if ((name === "PUBLISH" || name === "SPUBLISH") && INTERNAL_CHANNELS.includes(args[1] ?? "")) {
      return refused(
        args,
        name,
        new PermissionDenied({
          message: `${args[1]} is the channel this server sends its own events on; a raw ${name} to it would forge them, so it is refused. Publish on another channel.`
        })
      )
    }
    if (prefix !== "") {
      // Decided by name alone (SCAN, EVAL, MOVE…), before the lookup, so every backing refuses them alike.
      const early = unscopedByName(args)
      const what = unscopedByName([name]) === undefined && sub !== undefined ? `${name} ${sub}` : name
      if (early !== undefined) return refused(args, what, outsidePrefix(what, early, name))
    }
    return undefined
  }

  /** The checks that need the command's table entry (`top`, undefined when unknown) and the session's mode. */
  const late = (
    args: ReadonlyArray<string>,
    name: string,
    sub: string | undefined,
    top: CommandInfo | undefined,
    readOnly: boolean
  ): Verdict => {
    if (top === undefined) return refused(args, name, options.unknown(name))
    let info = top
    let command = name
    if (top.subcommands.size > 0) {
      const found = sub === undefined ? undefined : top.subcommands.get(sub.toLowerCase())
      if (found === undefined) {
        const known = [...top.subcommands.keys()].map((s) => s.toUpperCase()).join(", ")
        return refused(
          args,
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
        args,
        command,
        new InvalidArgument({
          message: `Wrong number of arguments for ${command}: got ${args.length}, Redis expects ${expected} counting the command name. Fix the argument list.`
        }),
        info.flags
      )
    }
    if (blocks(name, args, info.flags)) {
      return refused(
        args,
        command,
        new InvalidArgument({
          message: `${command} can block, and a blocked call would stall the server's shared connection. Use the non-blocking form (LPOP instead of BLPOP, XREAD without BLOCK) or the dedicated tools (xread, xreadgroup, read_messages), which bound their waits.`
        }),
        info.flags
      )
    }
    if (readOnly && !info.flags.includes("readonly")) {
      return refused(
        args,
        command,
        new ReadOnlyMode({
          message: `${command} is not flagged read-only by Redis, and this session is read-only (the server runs with --read-only, or your role is read-only). Use a read-only command (GET, HGETALL, SCAN, XRANGE…), or ask an operator for write access.`
        }),
        info.flags
      )
    }
    const scope = scopeOf(info, args)
    const internal = scope._tag === "Scoped" ? scope.keys.find((k) => internalFamily(k.name) !== undefined) : undefined
    if (internal !== undefined) {
      return refused(
        args,
        command,
        new PermissionDenied({ message: reservedKeyMessage(internal.name, internalFamily(internal.name)!) }),
        info.flags
      )
    }
    let send = args
    let keys: ReadonlyArray<string> = scope._tag === "Scoped" ? scope.keys.map((k) => k.name) : []
    if (prefix !== "") {
      const outcome = underPrefix(info, args, prefix, options.rewrite)
      if (outcome._tag === "Refused")
        return refused(args, command, outsidePrefix(command, outcome.reason, name), info.flags)
      send = outcome.args
      keys = outcome.keys
    }
    return {
      command,
      flags: info.flags,
      readOnly: info.flags.includes("readonly"),
      refusal: undefined,
      send,
      keys
    } satisfies Verdict
  }

  /** The session's mode: the policy's own, else the fiber's `ReadOnly` reference. */
  const readOnlyMode: Effect.Effect<boolean> =
    options.readOnly === undefined ? ReadOnly : Effect.succeed(options.readOnly)

  // Untraced: a command tool asks it once per call (a span and a stack capture cost more than the check).
  const describe = Effect.fnUntraced(function* (args: ReadonlyArray<string>) {
    const name = (args[0] ?? "").toUpperCase()
    const sub = args[1]?.toUpperCase()
    const refusal = early(args, name, sub)
    if (refusal !== undefined) return refusal
    const top = yield* options.lookup(name.toLowerCase())
    return late(args, name, sub, top, yield* readOnlyMode)
  })

  // One fiber for the whole list: the loop suspends only to look up a command name it has not seen.
  const describeAll = Effect.fnUntraced(function* (commands: ReadonlyArray<ReadonlyArray<string>>) {
    const readOnly = yield* readOnlyMode
    const seen = new Map<string, CommandInfo | undefined>()
    const out: Array<Verdict> = []
    for (const args of commands) {
      const name = (args[0] ?? "").toUpperCase()
      const sub = args[1]?.toUpperCase()
      let verdict = early(args, name, sub)
      if (verdict === undefined) {
        const lower = name.toLowerCase()
        let top = seen.get(lower)
        if (top === undefined && !seen.has(lower)) {
          top = yield* options.lookup(lower)
          seen.set(lower, top)
        }
        verdict = late(args, name, sub, top, readOnly)
      }
      out.push(verdict)
      if (verdict.refusal !== undefined) break
    }
    return out
  })

  return {
    describe,
    describeAll,
    check: (args) =>
      Effect.flatMap(describe(args), (v) => (v.refusal === undefined ? Effect.succeed(v) : Effect.fail(v.refusal)))
  }
}

const fromTable = (rewrite: boolean) =>
  Effect.gen(function* () {
    const table = yield* CommandTable
    const { keyPrefix, commands } = yield* ServerConfig
    return CommandPolicy.of(
      makePolicy({
        deny: commands.deny ?? DEFAULT_DENY,
        allow: commands.allow,
        keyPrefix,
        rewrite,
        lookup: table.lookup,
        unknown: table.unknown
      })
    )
  })

export class CommandPolicy extends Context.Service<CommandPolicy, CommandPolicyShape>()(
  "effect-redis-mcp/CommandPolicy"
) {
  /** Flags and key specs from Redis's COMMAND INFO (cached per command name); keys get the prefix. */
  static readonly layer = Layer.effect(CommandPolicy, fromTable(true)).pipe(Layer.provide(CommandTable.layer))

  /** Flags and key specs from the in-memory command table (see MemoryCommands). */
  static readonly layerMemory = Layer.effect(CommandPolicy, fromTable(false)).pipe(
    Layer.provide(CommandTable.layerMemory)
  )
}
