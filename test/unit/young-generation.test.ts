/**
 * The young generation's bound (`YoungGeneration.ts`) in a child process that
 * allocates like a busy server: without it V8 doubles new space to its maximum;
 * with it new space stays within the bound (one doubling under way may finish).
 * And it steps aside when NODE_OPTIONS or the command line chose the size.
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { youngGenerationChosen } from "../../src/layers/YoungGeneration.ts"

const FIXTURE = fileURLToPath(new URL("../fixtures/young-generation.ts", import.meta.url))

const largestNewSpace = (semiMiB: number): number => {
  const out = execFileSync(process.execPath, [FIXTURE, String(semiMiB)], { encoding: "utf8", timeout: 60_000 })
  return (JSON.parse(out) as { newSpaceMiB: number }).newSpaceMiB
}

describe("young generation bound", () => {
  it("keeps new space within twice the semi-space bound, where V8 alone grows it further", () => {
    const free = largestNewSpace(0)
    assert.isAtLeast(free, 32, "the load makes V8 grow new space")
    for (const semi of [4, 8]) {
      const bounded = largestNewSpace(semi)
      assert.isAtMost(bounded, 2 * 2 * semi, `semi ${semi} MiB: new space at most the next doubling past 2 × ${semi}`)
      assert.isBelow(bounded, free)
    }
  })

  it("steps aside when the size was chosen on the command line or in NODE_OPTIONS", () => {
    assert.isFalse(youngGenerationChosen([], undefined))
    assert.isFalse(youngGenerationChosen(["--enable-source-maps"], "--max-old-space-size=512"))
    assert.isTrue(youngGenerationChosen(["--max-semi-space-size=64"], undefined))
    assert.isTrue(youngGenerationChosen(["--max_semi_space_size", "64"], undefined))
    assert.isTrue(youngGenerationChosen([], "--inspect  --max-semi-space-size=8"))
    assert.isTrue(youngGenerationChosen([], "--semi-space-growth-factor=1"))
    assert.isFalse(youngGenerationChosen([], "--max-semi-space-sizes=8"))
  })
})
