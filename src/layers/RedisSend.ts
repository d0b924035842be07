/**
 * One send of a call: the command's promise raced against its timeout, and what
 * Redis's answer says recorded in the latency tracker: a reply in time, a reply
 * after the call gave up (late: Redis is alive but slow), a timeout, or a failure
 * without a reply (the connection dropped). On the shared client, the writes
 * batched as configured (WriteBatching.ts).
 */
import { Clock, Context, Duration, Effect } from "effect"
import { ReplyError } from "ioredis"
import { type RedisError, Timeout } from "../Errors.ts"
import type { AutoPipelining } from "./Config.ts"
import { type Deadline, Deadlines } from "./Deadlines.ts"
import type { RedisLike } from "./RedisConnect.ts"
import { toRedisError } from "./RedisErrors.ts"
import type { CommandStats, LatencyTracker } from "./RedisLatency.ts"
import { writeBatching } from "./WriteBatching.ts"

/** How late a command's timeout may fire (one sweep timer for all commands in flight: Deadlines.ts). */
export const DEADLINE_RESOLUTION_MS = 10

/** The Clock of a fiber that was given none: its sleep is a plain setTimeout. */
const liveClock = Context.get(Context.empty(), Clock.Clock)
/** The longest single setTimeout; a longer wait goes through the Clock's own sleep (as before the sweep). */
const MAX_TIMER_MS = 2 ** 31 - 1

/** How a send ended, as far as the latency record is concerned. */
const PENDING = 0
const SETTLED = 1
const TIMED_OUT = 2
/** The caller was interrupted: a reply that comes is an ordinary one. */
const ABANDONED = 3

/** Redis answered (an error reply is an answer); anything else is a lost connection or a local failure. */
const isReply = (e: unknown): boolean => e instanceof ReplyError

export const makeSend = (tracker: LatencyTracker, capMs: number, shared: RedisLike, autoPipelining: AutoPipelining) => {
  const batching = writeBatching(autoPipelining, shared)
  const deadlines = new Deadlines(DEADLINE_RESOLUTION_MS)
  /** `adaptive`: the limit was the command's adaptive timeout, not the cap. */
  const timedOut = (command: string, ms: number, adaptive = false) =>
    Effect.fail(
      new Timeout({
        message: adaptive
          ? `${command} did not answer within ${ms} ms (its adaptive timeout, from recent latencies). Redis may be paused or overloaded; retry later and check the \`health\` tool.`
          : `${command} did not answer within ${ms} ms. Redis may be overloaded or paused; retry later and check the \`health\` tool.`,
        timeoutMs: ms
      })
    )

  /** A failure before the timeout: its error, recorded (ioredis's own timeout counts as a timeout). */
  const failedSend = (stats: CommandStats, e: unknown, command: string, took: number): RedisError => {
    const error = toRedisError(e, command, capMs)
    if (error._tag === "Timeout") tracker.timedOut(stats, took)
    else if (!isReply(e)) tracker.noReply(stats, took)
    return error
  }

  const answered = (stats: CommandStats, startMs: number, took: number, late: boolean) =>
    late ? tracker.lateReply(stats, startMs + took, took) : tracker.reply(stats, startMs + took, took)

  /**
   * The call raced against its deadline in one callback: what `Effect.timeoutOrElse` does on
   * the live Clock, without forking two fibers or arming a timer per call (the deadline joins
   * the one sweep of every command in flight, at most DEADLINE_RESOLUTION_MS late). When the
   * deadline passes, the verdict waits for the end of the event loop's turn (setImmediate), so
   * a reply already read from the socket in that turn still counts: a stalled event loop does
   * not turn answered calls into timeouts.
   */
  const timedCall = <C, A>(
    stats: CommandStats,
    startMs: number,
    command: string,
    c: C,
    f: (c: C) => Promise<A>,
    ms: number,
    adaptive: boolean
  ) =>
    Effect.callback<A, RedisError>((resume) => {
      const start = performance.now()
      let outcome = PENDING
      let verdict: ReturnType<typeof setImmediate> | undefined
      const giveUp = () => {
        if (outcome !== PENDING) return
        outcome = TIMED_OUT
        tracker.timedOut(stats, performance.now() - start)
        resume(timedOut(command, ms, adaptive))
      }
      const deadline: Deadline = {
        at: start + ms,
        expire: () => {
          verdict = setImmediate(giveUp)
        }
      }
      deadlines.add(deadline)
      const settle = (effect: Effect.Effect<A, RedisError>) => {
        outcome = SETTLED
        deadlines.delete(deadline)
        if (verdict !== undefined) clearImmediate(verdict)
        resume(effect)
      }
      batching.before(c)
      try {
        f(c).then(
          (a) => {
            batching.after(c)
            answered(stats, startMs, performance.now() - start, outcome === TIMED_OUT)
            if (outcome === PENDING) settle(Effect.succeed(a))
          },
          (e) => {
            batching.after(c)
            const took = performance.now() - start
            if (isReply(e)) answered(stats, startMs, took, outcome === TIMED_OUT)
            if (outcome === PENDING) settle(Effect.fail(failedSend(stats, e, command, took)))
          }
        )
      } catch (e) {
        batching.after(c)
        settle(Effect.suspend(() => Effect.fail(toRedisError(e, command, capMs))))
      }
      return Effect.sync(() => {
        if (outcome === PENDING) outcome = ABANDONED
        deadlines.delete(deadline)
        if (verdict !== undefined) clearImmediate(verdict)
      })
    })

  /** The same on another Clock (a TestClock) or past the longest setTimeout: `Effect.timeoutOrElse`. */
  const clockedCall = <C, A>(
    stats: CommandStats,
    startMs: number,
    command: string,
    c: C,
    f: (c: C) => Promise<A>,
    ms: number,
    adaptive: boolean
  ) =>
    Effect.suspend(() => {
      const start = performance.now()
      let late = false
      let failure: RedisError | undefined
      return Effect.tryPromise({
        try: () => {
          batching.before(c)
          let sent: Promise<A>
          try {
            sent = f(c)
          } catch (e) {
            batching.after(c)
            throw e
          }
          return sent.then(
            (a) => {
              batching.after(c)
              answered(stats, startMs, performance.now() - start, late)
              return a
            },
            (e: unknown) => {
              batching.after(c)
              const took = performance.now() - start
              if (isReply(e)) answered(stats, startMs, took, late)
              if (!late) failure = failedSend(stats, e, command, took)
              throw e
            }
          )
        },
        catch: (e) => failure ?? toRedisError(e, command, capMs)
      }).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(ms),
          orElse: () =>
            Effect.suspend(() => {
              late = true
              tracker.timedOut(stats, performance.now() - start)
              return timedOut(command, ms, adaptive)
            })
        })
      )
    })

  /**
   * Send `f(c)` at `startMs` (the Clock's time) with a timeout of `ms`; `adaptive` says
   * the timeout is the command's adaptive one (for the error's message).
   */
  const sendOnce = <C, A>(
    clock: Clock.Clock,
    stats: CommandStats,
    startMs: number,
    command: string,
    c: C,
    f: (c: C) => Promise<A>,
    ms: number,
    adaptive: boolean
  ): Effect.Effect<A, RedisError> =>
    clock === liveClock && ms <= MAX_TIMER_MS
      ? timedCall(stats, startMs, command, c, f, ms, adaptive)
      : clockedCall(stats, startMs, command, c, f, ms, adaptive)

  return { sendOnce, timedOut }
}
