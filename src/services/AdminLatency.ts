/**
 * The `latency` view: where a call's time goes on the Redis side, in one answer.
 * Our own per-command latencies over the last minute (the connection layer's
 * windows, with the timeout each command gets next), what Redis's latency
 * monitor last saw (`LATENCY LATEST`, empty unless `latency-monitor-threshold`
 * is set), and the slow log summed up per command name — names, counts and
 * durations only, never arguments (the slow log's own redaction applies).
 */
import type { Latencies } from "../layers/RedisLatency.ts"
import type { SlowlogEntry } from "./AdminViews.ts"

export interface LatencyEvent {
  readonly node: string
  /** Redis's event name: `command`, `fast-command`, `expire-cycle`, `fork`, `aof-fsync-always`… */
  readonly event: string
  /** When it was last seen, epoch ms. */
  readonly at: number
  readonly latestMs: number
  readonly maxMs: number
}

export interface SlowCommand {
  /** The command's name (with its subcommand for container commands). */
  readonly command: string
  readonly count: number
  readonly maxMicros: number
  readonly totalMicros: number
}

export interface LatencyReport {
  readonly client: Latencies
  readonly events: ReadonlyArray<LatencyEvent>
  /** The slow log per command name, slowest first; at most `limit` names. */
  readonly slowCommands: ReadonlyArray<SlowCommand>
  /** Slow log entries read (newest first, up to the slow log's own length). */
  readonly slowEntries: number
}

const asNumber = (v: unknown): number => (typeof v === "number" ? v : Number(String(v)))

/** `LATENCY LATEST`: `[[event, unix seconds, latest ms, max ms], …]` (a 5th field, the sum, in Redis 7.2+). */
export const parseLatencyLatest = (node: string, reply: unknown): ReadonlyArray<LatencyEvent> =>
  (Array.isArray(reply) ? reply : []).flatMap((row) => {
    if (!Array.isArray(row) || row.length < 4) return []
    return [
      {
        node,
        event: String(row[0]),
        at: asNumber(row[1]) * 1000,
        latestMs: asNumber(row[2]),
        maxMs: asNumber(row[3])
      }
    ]
  })

/** The slow log's entries per command name, slowest (by the worst single entry) first. */
export const summarizeSlowlog = (entries: ReadonlyArray<SlowlogEntry>, limit: number): ReadonlyArray<SlowCommand> => {
  const byName = new Map<string, { count: number; maxMicros: number; totalMicros: number }>()
  for (const e of entries) {
    const name = e.command.join(" ")
    const s = byName.get(name) ?? { count: 0, maxMicros: 0, totalMicros: 0 }
    s.count++
    s.maxMicros = Math.max(s.maxMicros, e.durationMicros)
    s.totalMicros += e.durationMicros
    byName.set(name, s)
  }
  return [...byName]
    .map(([command, s]) => ({ command, ...s }))
    .sort((a, b) => b.maxMicros - a.maxMicros || (a.command < b.command ? -1 : 1))
    .slice(0, limit)
}
