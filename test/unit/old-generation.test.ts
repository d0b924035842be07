/**
 * The old generation's growth (`OldGeneration.ts`) in a child process that allocates
 * like a busy server whose garbage gets promoted. What the bound sets is the limit V8
 * computes after each full collection (how far old space may grow before the next),
 * read from V8's own trace (`--trace-gc-nvp`): without the bound it is several times
 * the heap that survived, with it at most about twice (1.5× of old space, plus what the
 * young generation holds). How far the heap overshoots the limit while marking runs
 * depends on the machine's speed, so the test reads the limit, not the peak. And it
 * steps aside when the command line chose the growth.
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { oldGenerationChosen } from "../../src/layers/OldGeneration.ts"

const FIXTURE = fileURLToPath(new URL("../fixtures/old-generation.ts", import.meta.url))

/** The median; the first and last collections of a run can be odd ones (before the bound, at exit). */
const median = (values: Array<number>): number => {
  assert.isAtLeast(values.length, 3, "the load makes V8 run full collections")
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** For each full collection: the old generation's limit ÷ the heap that survived it. */
const limitRatios = (percent: number): Array<number> => {
  const out = execFileSync(process.execPath, ["--trace-gc-nvp", FIXTURE, String(percent)], {
    encoding: "utf8",
    timeout: 70_000,
    maxBuffer: 64 * 1024 * 1024
  })
  return out
    .split("\n")
    .filter((line) => / gc=mc /.test(line))
    .map((line) => {
      const field = (name: string) => Number(new RegExp(` ${name}=(\\d+)`).exec(line)?.[1])
      return field("old_gen_allocation_limit") / field("end_object_size")
    })
}

describe("old generation growth", () => {
  it("lets old space grow by about half the surviving heap, where V8 alone allows several times it", {
    timeout: 150_000
  }, () => {
    const free = median(limitRatios(0))
    const bounded = median(limitRatios(50))
    assert.isAtMost(bounded, 2.5)
    assert.isAbove(free, bounded)
  })

  it("steps aside when the growth was chosen on the command line", () => {
    assert.isFalse(oldGenerationChosen([]))
    assert.isFalse(oldGenerationChosen(["--enable-source-maps", "--max-old-space-size=512"]))
    assert.isTrue(oldGenerationChosen(["--heap-growing-percent=0"]))
    assert.isTrue(oldGenerationChosen(["--heap_growing_percent", "100"]))
    assert.isFalse(oldGenerationChosen(["--heap-growing-percents=5"]))
  })
})
