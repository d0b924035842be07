/**
 * What the connection layer learns from every reply: per command, a rolling
 * latency window (the read model `latencies`, and the adaptive timeout) and its
 * Prometheus series; per connection, the slowest reply that came after its call
 * had already timed out. Everything a call needs is resolved once per command
 * (`handle`), so recording is a few array writes and one metric update.
 *
 * Adaptive timeout of a command: 10 × the larger of its p99 over the last minute
 * and the slowest late reply of the last minute, floored and capped by config;
 * the cap until the command has 20 replies in the window. A late reply means
 * Redis is alive but slower than the timeout thought, so it lifts every
 * command's timeout at once; a Redis that stops answering sends no reply and the
 * timeouts stay where they were.
 */
import type { Context, Metric } from "effect"
import { LatencyWindow } from "./LatencyWindow.ts"
import * as Metrics from "./Metrics.ts"

/** How command timeouts are chosen (REDIS_COMMAND_TIMEOUT_MODE, _MIN_MS and REDIS_COMMAND_TIMEOUT_MS). */
export interface TimeoutSettings {
  readonly mode: "adaptive" | "fixed"
  /** The longest any call waits, retries and reconnect waits included. */
  readonly capMs: number
  /** The shortest adaptive timeout. */
  readonly floorMs: number
}

/** The adaptive rule's constants (documented in docs/admin/connection.md). */
export const ADAPTIVE = {
  multiplier: 10,
  minSamples: 20,
  windowMs: 60_000,
  slots: 6,
  /** Recompute a command's timeout after this many replies (and on any slot change or late reply). */
  recomputeEvery: 8
} as const

/** Distinct command labels at most; later ones share `other` (label values stay bounded). */
export const MAX_COMMANDS = 200
const OTHER = "other"

/** One command's latency in the window. */
export interface CommandLatency {
  /** The metric label: lower-case command name; scripts are `evalsha:<script>`. */
  readonly command: string
  /** Replies in the window, on time or late. */
  readonly count: number
  readonly p50Ms: number | null
  readonly p99Ms: number | null
  readonly maxMs: number | null
  /** The timeout the next call of this command gets. */
  readonly timeoutMs: number
  /** Calls of this command that timed out since start. */
  readonly timeouts: number
}

/** The read model behind `RedisClient.latencies` (and a future `latency` admin tool). */
export interface Latencies {
  readonly mode: TimeoutSettings["mode"]
  readonly windowMs: number
  readonly timeoutCapMs: number
  readonly timeoutFloorMs: number
  /** The slowest reply in the window that came after its call had timed out; null when none. */
  readonly lateReplyMaxMs: number | null
  /** Sorted by command. */
  readonly commands: ReadonlyArray<CommandLatency>
}

/** The metric label of a `run` command name: `GET` → `get`, `script task_claim` → `evalsha:task_claim`. */
export const commandLabel = (command: string): string => {
  const script = /^script (.+)$/.exec(command)
  const label = (script ? `evalsha:${script[1]}` : command)
    .trim()
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/[^a-z0-9_:./ -]/g, "_")
    .slice(0, 64)
  return label === "" ? OTHER : label
}

/** Everything about one command label; kept by the caller for the length of a call. */
export class CommandStats {
  readonly window = new LatencyWindow(ADAPTIVE)
  timeoutMs: number
  timeouts = 0
  /** Replies since the timeout was last computed, and the epochs it was computed at. */
  pending = 0
  rotationsSeen = 0
  lateSeen = 0
  readonly label: string
  readonly series: Metric.Metric<number, unknown>
  constructor(label: string, series: Metric.Metric<number, unknown>, capMs: number) {
    this.label = label
    this.series = series
    this.timeoutMs = capMs
  }
}

const orNull = (n: number | undefined): number | null => (n === undefined ? null : n)

export class LatencyTracker {
  readonly #byCommand = new Map<string, CommandStats>()
  readonly #byLabel = new Map<string, CommandStats>()
  readonly #late = new LatencyWindow(ADAPTIVE)
  /** Bumped by every late reply and every change of the late window. */
  #lateEpoch = 0
  #lateRotations = 0
  readonly #floorMs: number
  readonly settings: TimeoutSettings
  readonly context: Context.Context<never>

  /** `context` holds the MetricRegistry the series go to (the layer's, captured when it was built). */
  constructor(settings: TimeoutSettings, context: Context.Context<never>) {
    this.settings = settings
    this.context = context
    this.#floorMs = Math.min(settings.floorMs, settings.capMs)
  }

  /** The stats of `command` (the name given to `run`), created on first use. */
  handle(command: string): CommandStats {
    const known = this.#byCommand.get(command)
    if (known !== undefined) return known
    const label = commandLabel(command)
    let stats = this.#byLabel.get(label)
    if (stats === undefined) {
      const name = this.#byLabel.size < MAX_COMMANDS ? label : OTHER
      stats = this.#byLabel.get(name) ?? new CommandStats(name, Metrics.redisCommandSeries(name), this.settings.capMs)
      this.#byLabel.set(name, stats)
    }
    if (this.#byCommand.size < MAX_COMMANDS * 2) this.#byCommand.set(command, stats)
    return stats
  }

  /** The timeout (ms) for the next call of `stats`'s command at `now`. */
  timeoutFor(stats: CommandStats, now: number): number {
    if (this.settings.mode === "fixed") return this.settings.capMs
    const window = stats.window
    window.advance(now)
    this.#late.advance(now)
    if (this.#late.rotations !== this.#lateRotations) {
      this.#lateRotations = this.#late.rotations
      this.#lateEpoch++
    }
    if (
      stats.pending >= ADAPTIVE.recomputeEvery ||
      window.rotations !== stats.rotationsSeen ||
      this.#lateEpoch !== stats.lateSeen
    ) {
      stats.pending = 0
      stats.rotationsSeen = window.rotations
      stats.lateSeen = this.#lateEpoch
      stats.timeoutMs = this.#compute(window)
    }
    return stats.timeoutMs
  }

  #compute(window: LatencyWindow): number {
    const { capMs } = this.settings
    if (window.count < ADAPTIVE.minSamples) return capMs
    const base = Math.max(window.quantile(0.99) ?? 0, this.#late.max)
    return Math.min(capMs, Math.max(this.#floorMs, Math.ceil(base * ADAPTIVE.multiplier)))
  }

  /** Redis answered (a value or an error reply) within the timeout, after `ms`. */
  reply(stats: CommandStats, now: number, ms: number): void {
    stats.window.observe(now, ms)
    stats.pending++
    stats.series.updateUnsafe(ms / 1000, this.context)
  }

  /** Redis answered after the call had timed out (already in the metric, as a timeout). */
  lateReply(stats: CommandStats, now: number, ms: number): void {
    stats.window.observe(now, ms)
    this.#late.observe(now, ms)
    this.#lateEpoch++
  }

  /** The call gave up after `ms` without a reply. */
  timedOut(stats: CommandStats, ms: number): void {
    stats.timeouts++
    stats.series.updateUnsafe(ms / 1000, this.context)
    Metrics.redisTimeouts.updateUnsafe(1, this.context)
  }

  /** The command failed without a reply (the connection dropped) after `ms`. */
  noReply(stats: CommandStats, ms: number): void {
    stats.series.updateUnsafe(ms / 1000, this.context)
  }

  /** Every command seen so far, as of `now`. */
  report(now: number): Latencies {
    this.#late.advance(now)
    const commands = [...this.#byLabel.values()]
      .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0))
      .map((stats): CommandLatency => {
        const w = stats.window
        w.advance(now)
        const timeoutMs = this.timeoutFor(stats, now)
        return {
          command: stats.label,
          count: w.count,
          p50Ms: orNull(w.quantile(0.5)),
          p99Ms: orNull(w.quantile(0.99)),
          maxMs: w.count === 0 ? null : w.max,
          timeoutMs,
          timeouts: stats.timeouts
        }
      })
    return {
      mode: this.settings.mode,
      windowMs: ADAPTIVE.windowMs,
      timeoutCapMs: this.settings.capMs,
      timeoutFloorMs: this.#floorMs,
      lateReplyMaxMs: this.#late.count === 0 ? null : this.#late.max,
      commands
    }
  }
}
