/**
 * A bound on V8's young generation (new space), set from inside the process.
 *
 * Under load V8 doubles new space up to its maximum (two semi-spaces of 64 MiB on
 * Node's 64-bit builds): some 128 MiB of RSS that garbage fills and that is never
 * given back. `--max-semi-space-size` bounds it but is read once, when the heap is
 * made: `v8.setFlagsFromString` cannot change it afterwards, and a flag on the
 * command line is not ours to give (MCP clients start `node dist/main.js` or the
 * bin). What V8 does read at every growth is `--semi-space-growth-factor`: so after
 * each garbage collection this sets it to 1 (no growth) once new space has reached
 * the bound, and back to 2 (V8's default) while it is below it, e.g. after V8 shrank
 * it on an idle server.
 *
 * Built-ins only: the launcher (`src/main.ts`) loads this before the program.
 */
import { PerformanceObserver } from "node:perf_hooks"
import v8 from "node:v8"

/** The semi-space bound in MiB: new space is two of them. */
export const SEMI_SPACE_MIB = 16

const MIB = 1024 * 1024
const DEFAULT_GROWTH_FACTOR = 2

/**
 * Whether the operator chose the young generation's size on the command line or in
 * NODE_OPTIONS (`--max-semi-space-size`, or `--semi-space-growth-factor`): then V8 has
 * it and this stays out of the way.
 */
export const youngGenerationChosen = (execArgv: ReadonlyArray<string>, nodeOptions: string | undefined): boolean =>
  [...execArgv, ...(nodeOptions ?? "").split(/\s+/)].some((arg) =>
    /^--(max[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)(=|$)/.test(arg)
  )

/** New space's size in bytes (both semi-spaces), or undefined if V8 does not report it. */
export const newSpaceBytes = (): number | undefined =>
  v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size

/**
 * Keeps new space at most `2 × semiSpaceMiB` MiB from now on (a growth already under
 * way when the bound is reached may finish: it ends at the next power of two at
 * most). Returns the stop, which gives V8 its default growth back.
 */
export const boundYoungGeneration = (semiSpaceMiB: number = SEMI_SPACE_MIB): (() => void) => {
  const bound = 2 * semiSpaceMiB * MIB
  let factor = DEFAULT_GROWTH_FACTOR
  const setFactor = (next: number) => {
    if (next === factor) return
    factor = next
    v8.setFlagsFromString(`--semi-space-growth-factor=${next}`)
  }
  const adjust = () => {
    const size = newSpaceBytes()
    if (size !== undefined) setFactor(size >= bound ? 1 : DEFAULT_GROWTH_FACTOR)
  }
  const observer = new PerformanceObserver(adjust)
  observer.observe({ entryTypes: ["gc"] })
  adjust()
  return () => {
    observer.disconnect()
    setFactor(DEFAULT_GROWTH_FACTOR)
  }
}
