/**
 * The one retry policy of the project: exponential, capped, jittered. Applied to
 * (re)connecting, and to idempotent commands while their error is retryable.
 */
import { Duration, Schedule } from "effect"
import type { RetryPolicy } from "./Config.ts"

/** Capped, jittered exponential delays that never stop (connect and reconnect). */
export const backoff = (policy: RetryPolicy): Schedule.Schedule<Duration.Duration> =>
  Schedule.min([
    Schedule.exponential(Duration.millis(policy.baseMs), policy.factor),
    Schedule.spaced(Duration.millis(policy.maxMs))
  ]).pipe(Schedule.jittered)

/**
 * Retries for an idempotent command: the same backoff, bounded by a number of
 * attempts and by the command's time budget, continuing only while the error
 * says it is retryable.
 */
export const commandRetry = <E extends { readonly retryable: boolean }>(
  policy: RetryPolicy,
  budgetMs: number,
  times = 5
) =>
  backoff(policy).pipe(
    Schedule.setInputType<E>(),
    Schedule.while(({ input }) => input.retryable),
    Schedule.upTo({ times, duration: Duration.millis(budgetMs) })
  )
