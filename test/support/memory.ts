/**
 * Peak memory of a process on Linux, from /proc: `VmHWM` (the peak resident set
 * since start, or since the last reset) and `VmRSS`. Writing "5" to
 * `/proc/<pid>/clear_refs` resets the peak to the current RSS, so the peak of one
 * operation is: reset, run it, read the peak. `heapProbe` asks a Node process
 * what it still holds after a full GC. Used by the memory-bound tests (assert
 * "peak RSS stays under N") and by scripts/read-bounds.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const MiB = 1024 * 1024

const statusField = (pid: number, field: "VmHWM" | "VmRSS"): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)
  if (m === null) throw new Error(`/proc/${pid}/status has no ${field}`)
  return Number(m[1]) * 1024
}

/** Resident set size now, in bytes. */
export const rss = (pid: number): number => statusField(pid, "VmRSS")

/** Peak resident set size since start or the last `resetPeak`, in bytes. */
export const peakRss = (pid: number): number => statusField(pid, "VmHWM")

/** Reset the peak to the current RSS (Linux 4.0+). */
export const resetPeak = (pid: number): void => writeFileSync(`/proc/${pid}/clear_refs`, "5")

/** Whether this machine can measure peaks (Linux with a writable clear_refs). */
export const canMeasurePeaks = (): boolean => {
  try {
    resetPeak(process.pid)
    return peakRss(process.pid) > 0
  } catch {
    return false
  }
}

/** Run `f` and report how far the peak RSS of `pid` rose above its RSS when `f` started. */
export const peakGrowth = async <A>(
  pid: number,
  f: () => Promise<A>
): Promise<{ readonly result: A; readonly before: number; readonly peak: number; readonly growth: number }> => {
  resetPeak(pid)
  const before = rss(pid)
  const result = await f()
  const peak = peakRss(pid)
  return { result, before, peak, growth: peak - before }
}

/** Preloaded into a server: on SIGUSR2, a full GC, then its memory use written to HEAP_PROBE_OUT. */
const PROBE = `"use strict";
const gc = (() => { require("node:v8").setFlagsFromString("--expose-gc"); return require("node:vm").runInNewContext("gc") })();
process.on("SIGUSR2", () => { gc(); gc(); require("node:fs").writeFileSync(process.env.HEAP_PROBE_OUT, JSON.stringify(process.memoryUsage())) });
`

/**
 * A probe to preload into a Node process (pass `env` to it): `retained(pid)` asks
 * it for a full GC and returns what it still holds, heap plus Buffers, in bytes.
 * One probe per process; `dispose` removes its files.
 */
export const heapProbe = () => {
  const dir = mkdtempSync(join(tmpdir(), "heap-probe-"))
  const file = join(dir, "probe.cjs")
  const out = join(dir, "heap.json")
  writeFileSync(file, PROBE)
  const retained = async (pid: number): Promise<number> => {
    rmSync(out, { force: true })
    process.kill(pid, "SIGUSR2")
    for (let i = 0; i < 500 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 20))
    // The file may be seen before it is fully written.
    await new Promise((r) => setTimeout(r, 50))
    const m = JSON.parse(readFileSync(out, "utf8")) as { readonly heapUsed: number; readonly external: number }
    return m.heapUsed + m.external
  }
  return {
    env: { NODE_OPTIONS: `--require ${file}`, HEAP_PROBE_OUT: out },
    retained,
    dispose: () => rmSync(dir, { recursive: true, force: true })
  }
}
