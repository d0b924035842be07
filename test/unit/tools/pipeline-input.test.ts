/**
 * The pipeline's quick input check (Tool.quickInput): whatever it accepts, the input
 * schema accepts and decodes to the same value; whatever it turns down is left to the
 * schema (which words the error).
 */
import { assert, describe, it } from "@effect/vitest"
import { Exit, Schema } from "effect"
import { pipeline } from "../../../src/tools/batch.ts"

const decode = Schema.decodeUnknownExit(Schema.toCodecJson(pipeline.input))
const quick = pipeline.quickInput!

const inputs: ReadonlyArray<unknown> = [
  { commands: [["SET", "a", "1"]] },
  {
    commands: [
      ["SET", "a", 1],
      ["INCR", "a"],
      ["GET", "a"]
    ],
    atomic: true
  },
  { commands: [["PING"]], atomic: false },
  { commands: [["SET", "a", -1.5e300]] },
  { commands: [["SET", "\ud800", ""]] },
  { commands: [] },
  { commands: [[]] },
  { commands: [["SET", "a", null]] },
  { commands: [["SET", "a", true]] },
  { commands: [["SET", "a", ["nested"]]] },
  { commands: [["SET", "a", { v: 1 }]] },
  { commands: [["SET", "a", Number.NaN]] },
  { commands: [["SET", "a", Number.POSITIVE_INFINITY]] },
  { commands: ["SET a 1"] },
  { commands: { 0: ["GET", "a"] } },
  { commands: [["GET", "a"]], atomic: "yes" },
  { commands: [["GET", "a"]], atomic: null },
  { commands: [["GET", "a"]], extra: 1 },
  { commands: [["GET", "a"]], atomic: undefined },
  { command: [["GET", "a"]] },
  {},
  [],
  null,
  "commands"
]

describe("pipeline quick input", () => {
  it("accepts only what the schema accepts, unchanged, and the plain shapes", () => {
    let accepted = 0
    for (const input of inputs) {
      const fast = quick(input)
      const full = decode(input, { errors: "all", onExcessProperty: "error" })
      if (fast === undefined) continue
      accepted++
      assert.isTrue(Exit.isSuccess(full), JSON.stringify(input))
      if (Exit.isSuccess(full)) assert.deepStrictEqual(fast, full.value)
    }
    assert.strictEqual(accepted, 5)
  })
})
