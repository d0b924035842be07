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
 * says it is retryable. A retry is only scheduled when its delay ends inside the
 * budget, so the caller gets the last error within the budget instead of after it.
 */
export const commandRetry = <E extends { readonly retryable: boolean }>(
  policy: RetryPolicy,
  budgetMs: number,
  times = 5
) =>
  backoff(policy).pipe(
    Schedule.setInputType<E>(),
    Schedule.while(
      ({ input, elapsed, duration }) => input.retryable && elapsed + Duration.toMillis(duration) <= budgetMs
    ),
    Schedule.upTo({ times })
  )
