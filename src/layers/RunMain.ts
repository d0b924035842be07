/**
 * Run the server as the process's main program. SIGINT and SIGTERM interrupt
 * it, its finalizers run (the transport closes, Redis quits), then the process
 * exits with 128 + the signal's number, as shells and supervisors expect:
 * 130 for SIGINT, 143 for SIGTERM (the HTTP service exits 0 after its SIGTERM
 * drain: `exitCleanlyOn`). Otherwise the exit code is Effect's
 * default (0 on success — or whatever `process.exitCode` the program set — and
 * 1 on a defect).
 */
import { Runtime } from "effect"

/** The exit code after a clean shutdown on each signal we handle. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const

type Signal = keyof typeof SIGNAL_EXIT_CODES

const exitCodes: Record<Signal, number> = { ...SIGNAL_EXIT_CODES }

/**
 * A program for which `signal` is the normal way to stop (the HTTP service under a supervisor: SIGTERM
 * drains, then the service has done what it was asked) exits with `code` after its clean shutdown.
 */
export const exitCleanlyOn = (signal: Signal, code: number): void => {
  exitCodes[signal] = code
}

export const runMain = Runtime.makeRunMain(({ fiber, teardown }) => {
  let received: Signal | undefined
  const onSignal = (signal: Signal) => {
    received ??= signal
    fiber.interruptUnsafe(fiber.id)
  }
  const signals = Object.keys(SIGNAL_EXIT_CODES) as ReadonlyArray<Signal>
  for (const signal of signals) process.on(signal, onSignal)
  fiber.addObserver((exit) => {
    for (const signal of signals) process.removeListener(signal, onSignal)
    teardown(exit, (code) => {
      if (received !== undefined) process.exit(exitCodes[received])
      if (code !== 0) process.exit(code)
    })
  })
})
