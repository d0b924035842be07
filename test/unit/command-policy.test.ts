/**
 * The command policy of `command` and `pipeline`: deny list and allow-list
 * override (whole commands and subcommands), connection-state and blocking
 * commands, arity, read-only mode from Redis's flags, the dry-run verdict, and
 * the REDIS_MCP_COMMAND_* settings.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { InvalidArgument } from "../../src/Errors.ts"
import { serverSettingsConfig } from "../../src/layers/Config.ts"
import { type CommandInfo, parseCommandInfo } from "../../src/services/CommandInfo.ts"
import { DEFAULT_DENY, isDenied, makePolicy } from "../../src/services/CommandPolicy.ts"

// COMMAND INFO replies as redis-server 7.0 gives them (trimmed to the fields the policy reads).
const replies: Record<string, unknown> = {
  get: ["get", 2, ["readonly", "fast"], 1, 1, 1, ["@read"], [], [], []],
  set: ["set", -3, ["write", "denyoom"], 1, 1, 1, ["@write"], [], [], []],
  keys: ["keys", 2, ["readonly"], 0, 0, 0, ["@keyspace"], [], [], []],
  flushall: ["flushall", -1, ["write"], 0, 0, 0, ["@write"], [], [], []],
  blpop: ["blpop", -3, ["write", "noscript", "blocking"], 1, -2, 1, [], [], [], []],
  xread: ["xread", -4, ["readonly", "blocking", "movablekeys"], 0, 0, 0, [], [], [], []],
  wait: ["wait", 3, ["noscript"], 0, 0, 0, [], [], [], []],
  config: [
    "config",
    -2,
    [],
    0,
    0,
    0,
    ["@slow"],
    [],
    [],
    [
      ["config|get", -3, ["admin", "noscript", "loading", "stale"], 0, 0, 0, [], [], [], []],
      ["config|set", -4, ["admin", "noscript", "loading", "stale"], 0, 0, 0, [], [], [], []]
    ]
  ],
  object: ["object", -2, [], 0, 0, 0, [], [], [], [["object|encoding", 3, ["readonly"], 2, 2, 1, [], [], [], []]]]
}

let lookups = 0
const lookup = (name: string) =>
  Effect.sync((): CommandInfo | undefined => {
    lookups++
    return parseCommandInfo(replies[name])
  })

const policy = (options: { deny?: ReadonlyArray<string>; allow?: ReadonlyArray<string>; readOnly?: boolean } = {}) =>
  makePolicy({
    deny: options.deny ?? DEFAULT_DENY,
    allow: options.allow ?? [],
    readOnly: options.readOnly ?? false,
    keyPrefix: "",
    rewrite: true,
    lookup,
    unknown: (name) => new InvalidArgument({ message: `unknown ${name}` })
  })

/** The refusal's tag for `args`, or "allowed". */
const verdict = (p: ReturnType<typeof policy>, ...args: Array<string>) =>
  Effect.map(p.describe(args), (v) => v.refusal?._tag ?? "allowed")

describe("CommandPolicy", () => {
  it("parses COMMAND INFO with subcommands", () => {
    const info = parseCommandInfo(replies.config)!
    assert.strictEqual(info.arity, -2)
    assert.deepStrictEqual([...info.subcommands.keys()], ["get", "set"])
    assert.deepStrictEqual(info.subcommands.get("get")!.flags, ["admin", "noscript", "loading", "stale"])
    assert.isUndefined(parseCommandInfo(null))
  })

  it.effect("the default deny list refuses whole commands and subcommands with PermissionDenied", () =>
    Effect.gen(function* () {
      const p = policy()
      assert.strictEqual(yield* verdict(p, "FLUSHALL"), "PermissionDenied")
      assert.strictEqual(yield* verdict(p, "keys", "*"), "PermissionDenied")
      assert.strictEqual(yield* verdict(p, "config", "set", "maxmemory", "1"), "PermissionDenied")
      // CONFIG GET returns secrets (requirepass, masterauth): CONFIG is denied whole.
      assert.strictEqual(yield* verdict(p, "CONFIG", "GET", "maxmemory"), "PermissionDenied")
      assert.strictEqual(yield* verdict(p, "GET", "k"), "allowed")
      const refused = yield* p.describe(["config", "set", "maxmemory", "1"])
      assert.strictEqual(refused.command, "CONFIG")
      assert.include(refused.refusal!.message, 'REDIS_MCP_COMMAND_ALLOW="CONFIG"')
    })
  )

  it.effect("the allow list lifts entries; a subcommand allow lifts a whole-command deny for that subcommand", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* verdict(policy({ allow: ["KEYS"] }), "KEYS", "*"), "allowed")
      assert.strictEqual(yield* verdict(policy({ allow: ["CONFIG SET"] }), "CONFIG", "SET", "a", "b"), "allowed")
      const p = policy({ deny: ["CONFIG"], allow: ["CONFIG GET"] })
      assert.strictEqual(yield* verdict(p, "CONFIG", "GET", "x"), "allowed")
      assert.strictEqual(yield* verdict(p, "CONFIG", "SET", "x", "y"), "PermissionDenied")
      assert.isTrue(isDenied(new Set(["CONFIG"]), new Set(), "CONFIG", "GET"))
      assert.isFalse(isDenied(new Set(["CONFIG SET"]), new Set(["CONFIG"]), "CONFIG", "SET"))
    })
  )

  it.effect("a replaced deny list applies as given (empty: nothing denied)", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* verdict(policy({ deny: [] }), "FLUSHALL"), "allowed")
      assert.strictEqual(yield* verdict(policy({ deny: ["GET"] }), "GET", "k"), "PermissionDenied")
    })
  )

  it.effect("connection-state commands never run, even when allowed, and Redis is not asked", () =>
    Effect.gen(function* () {
      const p = policy({ deny: [], allow: ["SUBSCRIBE", "MULTI", "SELECT", "MONITOR", "CLIENT REPLY"] })
      const before = lookups
      for (const args of [["SUBSCRIBE", "c"], ["multi"], ["SELECT", "1"], ["MONITOR"], ["client", "reply", "off"]]) {
        assert.strictEqual(yield* verdict(p, ...args), "InvalidArgument", args.join(" "))
      }
      assert.strictEqual(lookups, before)
    })
  )

  it.effect("describeAll gives describe's verdicts in order, up to the first refusal, asking each name once", () =>
    Effect.gen(function* () {
      const p = policy({ allow: ["CONFIG GET"] })
      const commands = [
        ["get", "a"],
        ["SET", "b", "1"],
        ["GET", "c"],
        ["config", "get", "maxmemory"],
        ["set", "d", "2", "EX", "10"],
        ["SET", "e"],
        ["GET", "never", "looked", "at"]
      ]
      const before = lookups
      const all = yield* p.describeAll(commands)
      // get, set and config, once each: the refused SET (arity) ends the list before the last GET.
      assert.strictEqual(lookups - before, 3)
      assert.strictEqual(all.length, 6)
      for (const [i, v] of all.entries()) assert.deepStrictEqual(v, yield* p.describe(commands[i]!))
      assert.strictEqual(all[5]!.refusal?._tag, "InvalidArgument")
      const early = yield* p.describeAll([["GET", "a"], ["FLUSHALL"], ["SET", "x", "1"]])
      assert.deepStrictEqual(
        early.map((v) => v.refusal?._tag ?? "allowed"),
        ["allowed", "PermissionDenied"]
      )
      const readOnly = yield* policy({ readOnly: true }).describeAll([
        ["GET", "a"],
        ["SET", "b", "1"]
      ])
      assert.deepStrictEqual(
        readOnly.map((v) => v.refusal?._tag ?? "allowed"),
        ["allowed", "ReadOnlyMode"]
      )
    })
  )

  it.effect("container commands need a known subcommand; arity counts the name", () =>
    Effect.gen(function* () {
      const p = policy({ deny: [] })
      const missing = yield* p.describe(["CONFIG"])
      assert.strictEqual(missing.refusal?._tag, "InvalidArgument")
      assert.include(missing.refusal!.message, "GET, SET")
      assert.strictEqual(yield* verdict(p, "CONFIG", "NOPE"), "InvalidArgument")
      assert.strictEqual(yield* verdict(p, "GET"), "InvalidArgument")
      assert.strictEqual(yield* verdict(p, "GET", "a", "b"), "InvalidArgument")
      assert.strictEqual(yield* verdict(p, "SET", "a"), "InvalidArgument")
      assert.strictEqual(yield* verdict(p, "SET", "a", "b", "EX", "10"), "allowed")
      assert.strictEqual(yield* verdict(p, "NOSUCH"), "InvalidArgument")
      assert.strictEqual(yield* verdict(p, ""), "InvalidArgument")
    })
  )

  it.effect("blocking commands are refused; XREAD without BLOCK is not blocking", () =>
    Effect.gen(function* () {
      const p = policy()
      assert.strictEqual(yield* verdict(p, "BLPOP", "q", "0"), "InvalidArgument")
      assert.strictEqual(yield* verdict(p, "WAIT", "1", "0"), "InvalidArgument")
      assert.strictEqual(yield* verdict(p, "XREAD", "COUNT", "1", "STREAMS", "s", "0"), "allowed")
      assert.strictEqual(yield* verdict(p, "XREAD", "BLOCK", "0", "STREAMS", "s", "$"), "InvalidArgument")
      // A stream key named "block" is not the BLOCK option.
      assert.strictEqual(yield* verdict(p, "XREAD", "STREAMS", "block", "0"), "allowed")
    })
  )

  it.effect("read-only mode runs only what Redis flags readonly, subcommands by their own flags", () =>
    Effect.gen(function* () {
      const p = policy({ readOnly: true, deny: ["FLUSHALL"] })
      assert.strictEqual(yield* verdict(p, "GET", "k"), "allowed")
      assert.strictEqual(yield* verdict(p, "SET", "k", "v"), "ReadOnlyMode")
      assert.strictEqual(yield* verdict(p, "OBJECT", "ENCODING", "k"), "allowed")
      assert.strictEqual(yield* verdict(p, "CONFIG", "GET", "x"), "ReadOnlyMode")
      // The deny list is checked first.
      assert.strictEqual(yield* verdict(p, "FLUSHALL"), "PermissionDenied")
    })
  )

  it.effect("describe is the dry run: the verdict with flags; check fails with the refusal", () =>
    Effect.gen(function* () {
      const p = policy({ readOnly: true })
      const ok = yield* p.describe(["object", "encoding", "k"])
      assert.deepStrictEqual(ok, {
        command: "OBJECT ENCODING",
        flags: ["readonly"],
        readOnly: true,
        refusal: undefined,
        send: ["object", "encoding", "k"],
        keys: []
      })
      const refused = yield* p.describe(["SET", "k", "v"])
      assert.deepStrictEqual(refused.flags, ["write", "denyoom"])
      assert.isFalse(refused.readOnly)
      const failure = yield* Effect.flip(p.check(["SET", "k", "v"]))
      assert.strictEqual(failure._tag, "ReadOnlyMode")
      assert.strictEqual((yield* p.check(["GET", "k"])).command, "GET")
    })
  )
})

describe("REDIS_MCP_COMMAND_* and REDIS_MCP_PUBSUB_* settings", () => {
  const parse = (env: Record<string, string>) => serverSettingsConfig.parse(ConfigProvider.fromEnvRecord(env))

  it.effect("defaults: built-in deny list, nothing allowed, 100 commands, 50 subscriptions", () =>
    Effect.gen(function* () {
      const s = yield* parse({})
      assert.isUndefined(s.commands.deny)
      assert.deepStrictEqual(s.commands.allow, [])
      assert.strictEqual(s.commands.pipelineMaxCommands, 100)
      assert.deepStrictEqual(s.pubsub, {
        maxSubscriptions: 50,
        bufferSize: 1000,
        bufferBytes: 4 * 1024 * 1024,
        totalBytes: 32 * 1024 * 1024,
        idleMs: 600_000
      })
    })
  )

  it.effect('entries are normalised (case, CONFIG|SET, spaces); DENY "none" empties the list', () =>
    Effect.gen(function* () {
      const s = yield* parse({
        REDIS_MCP_COMMAND_DENY: " keys, config|set ,Client  Kill",
        REDIS_MCP_COMMAND_ALLOW: "flushdb,"
      })
      assert.deepStrictEqual(s.commands.deny, ["KEYS", "CONFIG SET", "CLIENT KILL"])
      assert.deepStrictEqual(s.commands.allow, ["FLUSHDB"])
      assert.deepStrictEqual((yield* parse({ REDIS_MCP_COMMAND_DENY: "None" })).commands.deny, [])
    })
  )

  it.effect("a malformed entry or a zero limit fails at start, naming the setting", () =>
    Effect.gen(function* () {
      const bad = yield* Effect.flip(parse({ REDIS_MCP_COMMAND_ALLOW: "CONFIG SET maxmemory" }))
      assert.include(bad.message, "REDIS_MCP_COMMAND_ALLOW")
      const zero = yield* Effect.flip(parse({ REDIS_MCP_PUBSUB_MAX_SUBSCRIPTIONS: "0" }))
      assert.include(zero.message, "REDIS_MCP_PUBSUB_MAX_SUBSCRIPTIONS")
    })
  )
})
