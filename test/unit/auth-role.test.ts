/**
 * The role model: a role narrows the server's toolsets and read-only (never widens them), and
 * its glob lists decide which keys, channels, queues and namespaces a call may touch, with Redis
 * glob semantics; glob patterns (psubscribe, scan MATCH) pass only when surely inside the role.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { PermissionDenied } from "../../src/Errors.ts"
import { covers, patternHead } from "../../src/mcp/auth/GlobCover.ts"
import {
  allows,
  allowsPatterns,
  denied,
  effectiveSettings,
  makeRole,
  patternList,
  type RoleSpec,
  type Touches
} from "../../src/mcp/auth/Role.ts"

const role = (spec: Partial<RoleSpec>) => makeRole("r", { toolsets: ["keys"], ...spec })

describe("effectiveSettings", () => {
  const server = { toolsets: ["keys", "hash", "task", "state"] as const, readOnly: false }
  const cases: ReadonlyArray<
    readonly [
      string,
      { toolsets: ReadonlyArray<string>; readOnly: boolean },
      RoleSpec | undefined,
      ReadonlyArray<string>,
      boolean
    ]
  > = [
    ["no role: the server's own", server, undefined, ["keys", "hash", "task", "state"], false],
    ["a subset", server, { toolsets: ["keys", "task"] }, ["keys", "task"], false],
    ["server order kept", server, { toolsets: ["state", "keys"] }, ["keys", "state"], false],
    ["a toolset the server lacks is not added", server, { toolsets: ["keys", "command"] }, ["keys"], false],
    ["nothing in common", server, { toolsets: ["stream"] }, [], false],
    ["role read-only", server, { toolsets: ["keys"], readOnly: true }, ["keys"], true],
    [
      "server read-only wins over a writable role",
      { ...server, readOnly: true },
      { toolsets: ["keys"], readOnly: false },
      ["keys"],
      true
    ]
  ]
  for (const [name, srv, spec, toolsets, readOnly] of cases) {
    it(name, () => {
      const result = effectiveSettings(srv, spec && makeRole("r", spec))
      assert.deepStrictEqual([...result.toolsets], [...toolsets])
      assert.strictEqual(result.readOnly, readOnly)
    })
  }
})

describe("allows", () => {
  // [role spec, touches, the name refused or undefined when allowed]
  const cases: ReadonlyArray<readonly [Partial<RoleSpec>, Touches, string | undefined]> = [
    [{}, { keys: ["anything"], channels: ["x"], queues: ["q"], namespaces: ["n"] }, undefined],
    [{ keys: ["app:*"] }, { keys: ["app:1", "app:"] }, undefined],
    [{ keys: ["app:*"] }, { keys: ["app:1", "other:1", "more:2"] }, 'key "other:1"'],
    [{ keys: ["app:*"] }, {}, undefined],
    [{ keys: ["app:*"] }, { keys: [] }, undefined],
    [{ keys: [] }, { keys: ["a"] }, 'key "a"'],
    [{ keys: [] }, { channels: ["a"] }, undefined],
    [{ keys: ["*"] }, { keys: ["", "x", "a:b:c"] }, undefined],
    [{ keys: ["a?c"] }, { keys: ["abc"] }, undefined],
    [{ keys: ["a?c"] }, { keys: ["ac"] }, 'key "ac"'],
    [{ keys: ["user:[0-9]*"] }, { keys: ["user:7x"] }, undefined],
    [{ keys: ["user:[0-9]*"] }, { keys: ["user:x7"] }, 'key "user:x7"'],
    [{ keys: ["lit\\*"] }, { keys: ["lit*"] }, undefined],
    [{ keys: ["lit\\*"] }, { keys: ["lits"] }, 'key "lits"'],
    [{ keys: ["a", "b*"] }, { keys: ["a", "bc"] }, undefined],
    [{ keys: ["App:*"] }, { keys: ["app:1"] }, 'key "app:1"'],
    [{ channels: ["news.*"] }, { channels: ["news.sport"] }, undefined],
    [{ channels: ["news.*"] }, { channels: ["alerts"] }, 'channel "alerts"'],
    [{ queues: ["build-*"] }, { queues: ["deploy"] }, 'queue "deploy"'],
    [{ namespaces: ["build"] }, { namespaces: ["build"] }, undefined],
    [{ namespaces: ["build"] }, { namespaces: ["builder"] }, 'namespace "builder"'],
    [{ keys: ["k*"], queues: ["q"] }, { keys: ["k1"], queues: ["z"] }, 'queue "z"']
  ]
  for (const [spec, touches, refused] of cases) {
    it.effect(`${JSON.stringify(spec)} ${JSON.stringify(touches)} → ${refused ?? "allowed"}`, () =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(allows(role(spec), touches))
        if (refused === undefined) {
          assert.isTrue(Exit.isSuccess(exit))
        } else {
          const error = denied(role(spec), touches)
          assert.instanceOf(error, PermissionDenied)
          assert.include(error!.message, refused)
          assert.include(error!.message, 'role "r"')
          assert.isTrue(Exit.isFailure(exit))
        }
      })
    )
  }

  it("no role (stdio without REDIS_MCP_ROLE) allows everything", () => {
    assert.isUndefined(denied(undefined, { keys: ["x"] }))
  })

  it("the message lists a few of the role's patterns and says nothing was sent", () => {
    const spec = { keys: ["a1", "a2", "a3", "a4", "a5", "a6", "a7"] }
    const message = denied(role(spec), { keys: ["zz"] })!.message
    assert.include(message, '"a1", "a2", "a3", "a4", "a5" and 2 more')
    assert.include(message, "nothing was sent to Redis")
    assert.include(denied(role({ keys: [] }), { keys: ["zz"] })!.message, "patterns: none")
  })

  it("a huge key name is cut in the message", () => {
    const message = denied(role({ keys: ["a*"] }), { keys: ["z".repeat(100_000)] })!.message
    assert.isBelow(message.length, 400)
  })
})

describe("patterns (psubscribe, scan MATCH)", () => {
  // [role channel patterns, subscription pattern, allowed]
  const cases: ReadonlyArray<readonly [ReadonlyArray<string> | undefined, string, boolean]> = [
    [undefined, "*", true],
    [["*"], "anything*", true],
    [["news.*"], "news.*", true],
    [["news.*"], "news.sport.*", true],
    [["news.*"], "news.[ab]*", true],
    [["news.*"], "news?", false],
    [["news.*"], "new*", false],
    [["news.*"], "*", false],
    [["news.*"], "news.sport", true],
    [["news.*"], "other", false],
    [["news.**"], "news.x*", true],
    [["news\\*"], "news\\*", true],
    [["news\\*"], "news*", false],
    [["news\\**"], "news\\*x*", true],
    [["news\\**"], "news*", false],
    [["a[bc]*"], "a[bc]*", true],
    [["a[bc]*"], "ab*", false],
    [["a?"], "ab", true],
    [["a?"], "a*", false],
    [[], "x", false],
    [["x", "news.*"], "news.*", true]
  ]
  for (const [patterns, pattern, allowed] of cases) {
    it.effect(`${JSON.stringify(patterns)} ⊇ ${JSON.stringify(pattern)}: ${allowed}`, () =>
      Effect.gen(function* () {
        const r = patterns === undefined ? role({}) : role({ channels: patterns })
        const exit = yield* Effect.exit(allowsPatterns(r, "channels", [pattern]))
        assert.strictEqual(Exit.isSuccess(exit), allowed)
      })
    )
  }

  it("one pattern outside refuses the call and names it", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(allowsPatterns(role({ channels: ["a.*"] }), "channels", ["a.*", "b.*"]))
      assert.include(error.message, 'pattern "b.*"')
    }).pipe(Effect.runSync))

  it("patternHead splits at the first unescaped wildcard", () => {
    assert.deepStrictEqual(patternHead("news.*"), { prefix: "news.", rest: "*" })
    assert.deepStrictEqual(patternHead("a\\*b?c"), { prefix: "a*b", rest: "?c" })
    assert.deepStrictEqual(patternHead("plain"), { prefix: "plain", rest: "" })
    assert.deepStrictEqual(patternHead("x[ab]"), { prefix: "x", rest: "[ab]" })
    assert.deepStrictEqual(patternHead("tail\\"), { prefix: "tail\\", rest: "" })
  })

  it("covers is sound on samples: whatever the pattern matches, the role pattern matches", () => {
    const names = ["", "a", "ab", "abc", "a*", "news.", "news.x", "news*", "news\\x", "b", "a.b.c", "[x]"]
    const patterns = ["*", "a*", "a?", "a[bc]*", "news.*", "news\\*", "news*", "a\\*", "?*", "[ab]*", "a"]
    for (const rolePattern of patterns) {
      const r = patternList([rolePattern])
      for (const sub of patterns) {
        if (!covers(rolePattern, sub, r.matches)) continue
        const sp = patternList([sub])
        for (const name of names) {
          if (sp.matches(name)) assert.isTrue(r.matches(name), `${rolePattern} ⊇ ${sub} but not for ${name}`)
        }
      }
    }
  })
})
