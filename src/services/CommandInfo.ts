/**
 * What Redis says about its commands (COMMAND INFO): arity, flags, ACL
 * categories, key specs and subcommands, asked once per command name and
 * cached. The command policy and the key finder (CommandKeys) share one table;
 * in memory it is MemoryCommands' own table, written in the same shapes.
 */
import { Context, Effect, Layer } from "effect"
import { InvalidArgument, type RedisError } from "../Errors.ts"
import { RedisClient } from "../layers/RedisClient.ts"
import { memoryCommandInfo, memoryCommandNames } from "./MemoryCommands.ts"

/** Where the search for a key spec's keys starts (Redis's `begin_search`). */
export type BeginSearch =
  | { readonly type: "index"; readonly index: number }
  | { readonly type: "keyword"; readonly keyword: string; readonly startFrom: number }
  | { readonly type: "unknown" }

/** How a key spec's keys are found from there (Redis's `find_keys`). */
export type FindKeys =
  | { readonly type: "range"; readonly lastKey: number; readonly keyStep: number; readonly limit: number }
  | { readonly type: "keynum"; readonly keyNumIdx: number; readonly firstKey: number; readonly keyStep: number }
  | { readonly type: "unknown" }

/** One key spec: where some of the command's keys are and how it uses them. */
export interface KeySpec {
  /** As Redis writes them: RO, RW, OW, RM, access, update, insert, delete, not_key, incomplete, variable_flags. */
  readonly flags: ReadonlyArray<string>
  readonly begin: BeginSearch
  readonly find: FindKeys
}

/** What COMMAND INFO says about one command (names in lower case, as Redis gives them). */
export interface CommandInfo {
  readonly name: string
  readonly arity: number
  readonly flags: ReadonlyArray<string>
  /** ACL categories, e.g. "@keyspace", "@read". */
  readonly categories: ReadonlyArray<string>
  readonly keySpecs: ReadonlyArray<KeySpec>
  /** By subcommand name in lower case ("get" for CONFIG GET); empty for plain commands. */
  readonly subcommands: ReadonlyMap<string, CommandInfo>
}

const str = (v: unknown) => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v))

/** A RESP map as ioredis gives it: a flat [k, v, k, v…] array (RESP2 and legacy RESP3), a Map or an object. */
const fields = (v: unknown): Map<string, unknown> => {
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [str(k), x]))
  if (Array.isArray(v)) {
    const out = new Map<string, unknown>()
    for (let i = 0; i + 1 < v.length; i += 2) out.set(str(v[i]), v[i + 1])
    return out
  }
  return typeof v === "object" && v !== null ? new Map(Object.entries(v)) : new Map()
}

const num = (v: unknown) => Number(str(v))

const parseBegin = (raw: unknown): BeginSearch => {
  const f = fields(raw)
  const spec = fields(f.get("spec"))
  switch (str(f.get("type"))) {
    case "index":
      return { type: "index", index: num(spec.get("index")) }
    case "keyword":
      return { type: "keyword", keyword: str(spec.get("keyword")), startFrom: num(spec.get("startfrom")) }
    default:
      return { type: "unknown" }
  }
}

const parseFind = (raw: unknown): FindKeys => {
  const f = fields(raw)
  const spec = fields(f.get("spec"))
  switch (str(f.get("type"))) {
    case "range":
      return {
        type: "range",
        lastKey: num(spec.get("lastkey")),
        keyStep: num(spec.get("keystep")),
        limit: num(spec.get("limit"))
      }
    case "keynum":
      return {
        type: "keynum",
        keyNumIdx: num(spec.get("keynumidx")),
        firstKey: num(spec.get("firstkey")),
        keyStep: num(spec.get("keystep"))
      }
    default:
      return { type: "unknown" }
  }
}

const parseKeySpec = (raw: unknown): KeySpec => {
  const f = fields(raw)
  const flags = f.get("flags")
  return {
    flags: Array.isArray(flags) ? flags.map(str) : [],
    begin: parseBegin(f.get("begin_search")),
    find: parseFind(f.get("find_keys"))
  }
}

const strings = (v: unknown) => (Array.isArray(v) ? v.map((x) => str(x).toLowerCase()) : [])

/** Parse one COMMAND INFO entry; undefined for nil (unknown command). */
export const parseCommandInfo = (entry: unknown): CommandInfo | undefined => {
  if (!Array.isArray(entry)) return undefined
  const [name, arity, flags, , , , categories, , specs, subs] = entry as Array<unknown>
  const subcommands = new Map<string, CommandInfo>()
  for (const s of Array.isArray(subs) ? subs : []) {
    const info = parseCommandInfo(s)
    if (info !== undefined) subcommands.set(info.name.slice(info.name.indexOf("|") + 1), info)
  }
  return {
    name: str(name).toLowerCase(),
    arity: Number(arity),
    flags: strings(flags),
    categories: strings(categories),
    keySpecs: Array.isArray(specs) ? specs.map(parseKeySpec) : [],
    subcommands
  }
}

/** The info of `args`' command, or of its subcommand for a container command (CONFIG GET, OBJECT ENCODING). */
export const infoFor = (top: CommandInfo, args: ReadonlyArray<string>): CommandInfo | undefined =>
  top.subcommands.size === 0 ? top : top.subcommands.get((args[1] ?? "").toLowerCase())

export interface CommandTableShape {
  /** COMMAND INFO of a command name (any case); undefined when the backing does not know it. */
  readonly lookup: (name: string) => Effect.Effect<CommandInfo | undefined, RedisError>
  /** The refusal for a command the backing does not know. */
  readonly unknown: (name: string) => InvalidArgument
}

export class CommandTable extends Context.Service<CommandTable, CommandTableShape>()("effect-redis-mcp/CommandTable") {
  /** Redis's COMMAND INFO, cached per command name for the life of the layer. */
  static readonly layer = Layer.effect(
    CommandTable,
    Effect.map(RedisClient, (redis) => {
      const cache = new Map<string, CommandInfo>()
      return CommandTable.of({
        lookup: (raw) => {
          const name = raw.toLowerCase()
          const cached = cache.get(name)
          if (cached !== undefined) return Effect.succeed(cached)
          return redis
            .run("COMMAND INFO", (c) => c.call("COMMAND", "INFO", name), { idempotent: true })
            .pipe(
              Effect.map((reply) => parseCommandInfo(Array.isArray(reply) ? reply[0] : undefined)),
              Effect.tap((info) => Effect.sync(() => info !== undefined && cache.set(name, info)))
            )
        },
        unknown: (name) =>
          new InvalidArgument({
            message: `Redis does not know the command ${name}. Check the spelling (COMMAND DOCS lists them), or load the module that provides it.`
          })
      })
    })
  )

  /** The in-memory command table (see MemoryCommands). */
  static readonly layerMemory = Layer.succeed(
    CommandTable,
    CommandTable.of({
      lookup: (name) => Effect.succeed(memoryCommandInfo(name)),
      unknown: (name) =>
        new InvalidArgument({
          message: `${name} is not supported by the in-memory store; it needs a real Redis (start the server with REDIS_URL). In memory: ${memoryCommandNames.join(", ")}.`
        })
    })
  )
}
