/**
 * The task scripts' shared Lua (lua/common.ts) on a real redis-server: a script
 * carries only the prelude parts it uses, and `fmt` writes scores and times
 * exactly (15 digits, no exponent) and rounds.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { withPrelude } from "../../src/services/tasks/lua/common.ts"
import * as Lua from "../../src/services/tasks/lua/scripts.ts"
import { RedisTestServer } from "../support/effect.ts"
import { requireRedis } from "../support/env.ts"

/** The helper functions a script's text defines, in order. */
const helpers = (script: string) => [...script.matchAll(/^local function (\w+)/gm)].map((m) => m[1])

describe("task Lua prelude", () => {
  requireRedis() // a missing redis-server fails the suite, never skips it
  layer(RedisTestServer.layer())((it) => {
    it("a script carries the parts it uses, and what those use, in the prelude's order", () => {
      assert.deepStrictEqual(helpers(withPrelude("return 1")), [])
      // finish uses fmt and changed; changed is defined after fmt in the prelude.
      assert.deepStrictEqual(helpers(withPrelude("finish('t1', 'h', 'completed', 1)")), ["fmt", "changed", "finish"])
      // A name in a comment pulls nothing in.
      assert.deepStrictEqual(helpers(withPrelude("-- like maintain would\nreturn 1")), [])
      assert.deepStrictEqual(helpers(Lua.STATS), [])
      assert.notInclude(helpers(Lua.CREATE), "maintain")
      assert.include(helpers(Lua.CLAIM), "maintain")
      assert.include(helpers(Lua.SWEEP), "nextDue")
    })

    it.effect("fmt writes 15-digit numbers whole and rounds fractions", () =>
      Effect.gen(function* () {
        const client = (yield* RedisTestServer).client()
        const script = withPrelude(
          "local out = {}\nfor i = 2, #ARGV do out[#out + 1] = fmt(tonumber(ARGV[i])) end\nreturn out"
        )
        const got = yield* Effect.promise(() =>
          client.eval(script, 1, "task:{q}", "0", "1796477437000", "9000000000042", "2.5", "1.4", "0", "-3")
        )
        assert.deepStrictEqual(got, ["1796477437000", "9000000000042", "3", "1", "0", "-3"])
      })
    )

    it.effect("every task script compiles on Redis", () =>
      Effect.gen(function* () {
        const client = (yield* RedisTestServer).client()
        for (const [name, lua] of Object.entries(Lua)) {
          if (typeof lua !== "string") continue
          const sha = yield* Effect.promise(() => client.script("LOAD", lua))
          assert.match(String(sha), /^[0-9a-f]{40}$/, name)
        }
      })
    )
  })
})
