/**
 * Small polling helpers shared by the topology starters.
 */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export interface WaitOptions {
  /** Give up after this many milliseconds. */
  readonly timeoutMs: number
  /** Delay between probes (default 100 ms). */
  readonly intervalMs?: number
  /** Human readable description used in the timeout error. */
  readonly description: string
  /** Extra diagnostics appended to the timeout error (e.g. a log tail). */
  readonly diagnostics?: () => Promise<string> | string
  /** Checked before every probe; a returned string aborts the wait with that message. */
  readonly abortIf?: () => string | undefined
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * Polls `probe` until it returns something other than `undefined` / `false`.
 * Exceptions thrown by the probe count as "not yet" and are reported on timeout.
 */
export const waitFor = async <T>(probe: () => Promise<T | undefined | false>, options: WaitOptions): Promise<T> => {
  const deadline = Date.now() + options.timeoutMs
  const interval = options.intervalMs ?? 100
  let last = "no attempt finished"
  for (;;) {
    const abort = options.abortIf?.()
    if (abort !== undefined) {
      throw new Error(`${abort} (while waiting for ${options.description})${await diagnostics(options)}`)
    }
    try {
      const result = await probe()
      if (result !== undefined && result !== false) return result
      last = "condition not met"
    } catch (error) {
      last = describeError(error)
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${options.timeoutMs} ms waiting for ${options.description}; last result: ${last}${await diagnostics(options)}`
      )
    }
    await sleep(interval)
  }
}

const diagnostics = async (options: WaitOptions): Promise<string> => {
  if (options.diagnostics === undefined) return ""
  try {
    return `\n${await options.diagnostics()}`
  } catch (error) {
    return `\n(diagnostics failed: ${describeError(error)})`
  }
}

/** Rejects with a descriptive error when `promise` does not settle within `ms`. */
export const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      }
    )
  })
