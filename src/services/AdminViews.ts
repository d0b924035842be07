/**
 * The SLOWLOG and CLIENT LIST views of the admin tools, parsed and redacted.
 * SLOWLOG keeps every argument of every client's slow commands (values, and
 * other tenants' keys) and the client's address and name: an entry shows only
 * the command's name, how many arguments it had and how many keys it named, never
 * a key, a value or the client; with a key prefix only entries whose keys all
 * carry it are shown. CLIENT LIST shows each client's id, age, idle time,
 * database, flags, last command name and memory, never its address or name.
 */
import type { CommandInfo } from "./CommandInfo.ts"
import { scopeOf } from "./CommandKeys.ts"

export interface SlowlogEntry {
  readonly node: string
  readonly id: number
  /** When the command ran, epoch ms. */
  readonly timestamp: number
  readonly durationMicros: number
  /** The command's name, with its subcommand for container commands (CONFIG GET); never its arguments. */
  readonly command: ReadonlyArray<string>
  /** How many arguments it had (after the name). */
  readonly argumentCount: number
  /** How many keys it named; null when that cannot be told (its arguments were cut, or the command is unknown). */
  readonly keyCount: number | null
}

/** One SLOWLOG GET entry as Redis keeps it (arguments truncated by Redis: at most 32, 128 bytes each). */
export interface RawSlowlogEntry {
  readonly node: string
  readonly id: number
  readonly timestamp: number
  readonly durationMicros: number
  readonly args: ReadonlyArray<string>
}

/** One connected client, without its address or name (which say who else uses the Redis). */
export interface ClientInfo {
  readonly node: string
  readonly id: number
  readonly ageSeconds: number
  readonly idleSeconds: number
  readonly db: number
  /** The name of the last command it ran (`get`, `client|list`), never its arguments. */
  readonly lastCommand: string
  readonly flags: string
  /** Bytes the connection holds in all (`tot-mem`), in its query buffer (`qbuf`), in its output buffers (`omem`). */
  readonly totalMemoryBytes: number
  readonly queryBufferBytes: number
  readonly outputBufferBytes: number
}

export const text = (v: unknown) => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v))

export const parseSlowlog = (node: string, reply: unknown): Array<RawSlowlogEntry> =>
  (reply as Array<Array<unknown>>).map(([id, seconds, micros, args]) => ({
    node,
    id: Number(id),
    timestamp: Number(seconds) * 1000,
    durationMicros: Number(micros),
    args: (args as Array<unknown>).map(text)
  }))

const fieldsOf = (line: string): Map<string, string> =>
  new Map(
    line
      .trim()
      .split(" ")
      .map((pair) => {
        const at = pair.indexOf("=")
        return [pair.slice(0, at), pair.slice(at + 1)] as const
      })
  )

/** CLIENT LIST (or CLIENT INFO) lines of one node, parsed; `addr`, `laddr` and `name` are never read. */
export const parseClients = (node: string, reply: string): Array<ClientInfo> =>
  reply
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const f = fieldsOf(line)
      const num = (k: string) => Number(f.get(k) ?? 0)
      return {
        node,
        id: num("id"),
        ageSeconds: num("age"),
        idleSeconds: num("idle"),
        db: num("db"),
        lastCommand: f.get("cmd") ?? "",
        flags: f.get("flags") ?? "",
        totalMemoryBytes: num("tot-mem"),
        queryBufferBytes: num("qbuf"),
        outputBufferBytes: num("omem")
      }
    })

/** Redis's stand-in for the arguments it did not keep: "... (N more arguments)". */
const MORE_ARGS = /^\.\.\. \((\d+) more arguments\)$/

/**
 * The entry as it may be shown: `undefined` when a key prefix is set and the entry's keys
 * do not all carry it (or cannot be told). `info` is the command's table entry, if known.
 */
export const redactSlowlog = (
  entry: RawSlowlogEntry,
  info: CommandInfo | undefined,
  prefix: string
): SlowlogEntry | undefined => {
  const { args } = entry
  const more = MORE_ARGS.exec(args.at(-1) ?? "")
  const kept = more === null ? args : args.slice(0, -1)
  const container = info?.name.includes("|") === true
  const command = (container ? args.slice(0, 2) : args.slice(0, 1)).map((a) => a.toUpperCase())
  const scope = more === null ? scopeOf(info, kept) : undefined
  const keys = scope?._tag === "Scoped" ? scope.keys.map((k) => k.name) : undefined
  if (prefix !== "" && (keys === undefined || keys.length === 0 || !keys.every((k) => k.startsWith(prefix)))) {
    return undefined
  }
  return {
    node: entry.node,
    id: entry.id,
    timestamp: entry.timestamp,
    durationMicros: entry.durationMicros,
    command,
    argumentCount: kept.length - 1 + (more === null ? 0 : Number(more[1])),
    keyCount: keys?.length ?? null
  }
}
