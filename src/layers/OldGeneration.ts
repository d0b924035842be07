/**
 * A tighter growth of V8's old generation, set from inside the process.
 *
 * After each full collection V8 lets old space grow to a multiple of what survived
 * it before it collects again: up to 4× on a heap allowed 1 GiB or more (Node's
 * default on any machine with a few GiB), while the collector is fast next to the
 * program, which it is for a server's small live heap. Promoted garbage (objects
 * still in flight at two scavenges, dead soon after) fills that room, and the pages
 * it freed stay with V8 (pooled for reuse), so RSS stays at the peak: 14 MiB live
 * and a 60–100 MiB old space after the bench's load. `--heap-growing-percent=P`
 * makes the factor 1 + P/100 instead; V8 reads it each time it computes the limit,
 * so `v8.setFlagsFromString` works at run time (`--max-old-space-size` it reads
 * once, when the heap is made), and a command-line choice is not ours to give (MCP
 * clients start `node dist/main.js` or the bin).
 *
 * Built-ins only: the launcher (`src/main.ts`) loads this before the program.
 */
import v8 from "node:v8"

/** Old space may grow by this percentage of what survived the last full collection. */
export const HEAP_GROWING_PERCENT = 50

/**
 * Whether the operator chose the growth on the command line (`--heap-growing-percent`;
 * V8 flags of this kind are not allowed in NODE_OPTIONS): then V8 has it and this
 * stays out of the way. `--heap-growing-percent=0` gives V8 its own dynamic factor back.
 */
export const oldGenerationChosen = (execArgv: ReadonlyArray<string>): boolean =>
  execArgv.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg))

/** From now on old space grows by at most `percent` % of the live heap between full collections. */
export const boundOldGeneration = (percent: number = HEAP_GROWING_PERCENT): void => {
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`)
}
