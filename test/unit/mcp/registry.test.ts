/**
 * The tool registry: which tools a session sees (the surface), what `tools/list`
 * serves for every tool the server knows (schemas an MCP client can compile, all
 * hints, a title), and how one call turns into a result or an error envelope.
 */
import { assert, describe, it } from "@effect/vitest"
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv"
import { Effect, Schema } from "effect"
import { NotFound, VersionConflict, WrongType } from "../../../src/Errors.ts"
import { makeRole, type Role } from "../../../src/mcp/auth/Role.ts"
import { type CallOutcome, envelope, toResult } from "../../../src/mcp/Envelope.ts"
import { callTool, codecs, listEntry, nestsDeeperThan } from "../../../src/mcp/Registry.ts"
import { DEFAULT_TOOLSETS, TOOLSETS } from "../../../src/mcp/Settings.ts"
import { makeCatalog, surface } from "../../../src/mcp/Surface.ts"
import * as Feature from "../../../src/tools/Feature.ts"
import { allTools, features } from "../../../src/tools/index.ts"
import * as Tool from "../../../src/tools/Tool.ts"

const fake = (name: string, toolset: string, hints: Tool.ToolHints, core = false) =>
  Tool.make({
    name,
    title: name,
    description: name,
    toolset,
    ...(core ? { core: true } : {}),
    input: Tool.NoInput,
    output: Schema.Struct({ ok: Schema.Boolean }),
    hints,
    touches: Tool.touches.nothing,
    handler: () => Effect.succeed({ ok: true })
  })

const fakes = [
  fake("ping", "admin", Tool.hints.read, true),
  fake("flush", "admin", Tool.hints.destroy, true),
  fake("info", "admin", Tool.hints.read),
  fake("get", "keys", Tool.hints.read),
  fake("set", "keys", Tool.hints.overwrite),
  fake("xadd", "stream", Tool.hints.write),
  fake("xrange", "stream", Tool.hints.read)
]
const fakeCatalog = makeCatalog(
  ["admin", "keys", "stream"].map((name) =>
    Feature.make({ name, default: false, tools: fakes.filter((t) => t.toolset === name) })
  )
)
const enabled = (settings: { toolsets: ReadonlyArray<string>; readOnly: boolean }, role?: Role) => [
  ...surface(fakeCatalog, settings, role).tools.keys()
]

describe("surface: the tools a session sees", () => {
  it("keeps the tools of the enabled toolsets plus core tools, in order", () => {
    assert.deepStrictEqual(enabled({ toolsets: ["keys"], readOnly: false }), ["ping", "flush", "get", "set"])
    assert.deepStrictEqual(enabled({ toolsets: ["stream"], readOnly: false }), ["ping", "flush", "xadd", "xrange"])
  })

  it("an enabled admin toolset adds its non-core tools", () => {
    assert.deepStrictEqual(enabled({ toolsets: ["admin"], readOnly: false }), ["ping", "flush", "info"])
  })

  it("read-only keeps only read-only tools, core ones included", () => {
    assert.deepStrictEqual(enabled({ toolsets: ["admin", "keys", "stream"], readOnly: true }), [
      "ping",
      "info",
      "get",
      "xrange"
    ])
  })

  it("a role narrows the toolsets and can make a session read-only, never the reverse", () => {
    const all = { toolsets: ["admin", "keys", "stream"], readOnly: false }
    const role = (toolsets: ReadonlyArray<string>, readOnly = false) => makeRole("r", { toolsets, readOnly })
    assert.deepStrictEqual(enabled(all, role(["keys"])), ["ping", "flush", "get", "set"])
    assert.deepStrictEqual(enabled(all, role(["keys"], true)), ["ping", "get"])
    assert.deepStrictEqual(enabled({ toolsets: ["keys"], readOnly: true }, role(["keys", "stream"])), ["ping", "get"])
    assert.isTrue(surface(fakeCatalog, all, role(["keys", "stream"], true)).readOnly)
  })

  it("the real default set is keys, task and state plus ping and health, at most 30 tools", () => {
    const catalog = makeCatalog(features)
    const view = [...surface(catalog, { toolsets: DEFAULT_TOOLSETS, readOnly: false }).tools.values()]
    for (const { tool } of view) assert.isTrue(tool.core === true || DEFAULT_TOOLSETS.includes(tool.toolset), tool.name)
    assert.includeMembers(
      view.map((e) => e.tool.name),
      ["ping", "health"]
    )
    assert.isAtMost(view.length, 30)
    const readOnly = surface(catalog, { toolsets: TOOLSETS, readOnly: true })
    for (const listed of readOnly.listed) assert.isTrue(listed.annotations.readOnlyHint, listed.name)
  })
})

/** Every key anywhere in a JSON value. */
const keysDeep = (node: unknown, out = new Set<string>()): Set<string> => {
  if (Array.isArray(node)) for (const n of node) keysDeep(n, out)
  else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      out.add(k)
      keysDeep(v, out)
    }
  }
  return out
}

describe("tools/list entries of every tool", () => {
  const validator = new AjvJsonSchemaValidator()

  it("names are unique snake_case and toolsets known", () => {
    const seen = new Set<string>()
    for (const t of allTools) {
      assert.match(t.name, /^[a-z][a-z0-9_]*$/, t.name)
      assert.isFalse(seen.has(t.name), `duplicate tool ${t.name}`)
      seen.add(t.name)
      assert.include(TOOLSETS, t.toolset, t.name)
    }
  })

  for (const tool of allTools) {
    it(`${tool.name}: title, description, four hints, object schemas without $schema/$id`, () => {
      const entry = listEntry(tool)
      assert.isAbove(entry.title.trim().length, 0)
      assert.isAbove(entry.description.trim().length, 20, "description written for a model")
      assert.deepStrictEqual(Object.keys(entry.annotations).sort(), [
        "destructiveHint",
        "idempotentHint",
        "openWorldHint",
        "readOnlyHint",
        "title"
      ])
      assert.strictEqual(entry.annotations.title, entry.title)
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
        assert.isBoolean(entry.annotations[hint], hint)
      }
      assert.isFalse(entry.annotations.openWorldHint)
      if (entry.annotations.readOnlyHint) assert.isFalse(entry.annotations.destructiveHint, "read-only yet destructive")
      for (const schema of [entry.inputSchema, entry.outputSchema]) {
        assert.strictEqual(schema.type, "object")
        const keys = keysDeep(schema)
        assert.isFalse(keys.has("$schema"), "no $schema")
        assert.isFalse(keys.has("$id"), "no $id")
        // The SDK client compiles every schema with this validator inside listTools().
        assert.doesNotThrow(() => validator.getValidator(schema as never))
      }
    })
  }
})

const Out = Schema.Struct({ n: Schema.Finite, text: Schema.String })
const echo = Tool.make({
  name: "echo",
  title: "Echo",
  description: "Echo",
  toolset: "keys",
  input: Schema.Struct({ n: Schema.Int, text: Schema.optionalKey(Schema.String) }),
  output: Out,
  hints: Tool.hints.read,
  touches: Tool.touches.nothing,
  handler: ({ n, text }) => Effect.succeed({ n, text: text ?? "" })
})

const run = (tool: Tool.AnyTool<never>, args: unknown, maxOutputBytes = 1_000_000) =>
  callTool(tool, codecs(tool), args, maxOutputBytes)

const failureOf = (outcome: CallOutcome) => {
  assert.strictEqual(outcome._tag, "Failure")
  return outcome._tag === "Failure" ? outcome.error : assert.fail("expected a failure")
}

describe("callTool", () => {
  it.effect("decodes, runs the handler and encodes the output", () =>
    Effect.gen(function* () {
      const outcome = yield* run(echo, { n: 3, text: "hi" })
      assert.deepStrictEqual(outcome, { _tag: "Success", value: { n: 3, text: "hi" }, json: '{"n":3,"text":"hi"}' })
    })
  )

  it.effect("bad arguments are InvalidArgument and never reach the handler", () =>
    Effect.gen(function* () {
      let calls = 0
      const counted = Tool.make({
        ...echo,
        input: Schema.Struct({ n: Schema.Int }),
        output: Out,
        handler: ({ n }) => Effect.sync(() => ++calls).pipe(Effect.as({ n, text: "" }))
      })
      for (const args of [{}, { n: "3" }, { n: 1.5 }, { n: 1, extra: true }, null, [1], "x", 7]) {
        const error = failureOf(yield* run(counted, args))
        assert.strictEqual(error.tag, "InvalidArgument", JSON.stringify(args))
        assert.isFalse(error.retryable)
        assert.include(error.message, "Invalid arguments for echo")
      }
      assert.strictEqual(calls, 0)
    })
  )

  it.effect("arguments nested deeper than the bound are InvalidArgument, however deep (no stack overflow)", () =>
    Effect.gen(function* () {
      const deep = (depth: number) => {
        let value: unknown = 1
        for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { v: value }
        return value
      }
      assert.isFalse(nestsDeeperThan(deep(99), 100))
      assert.isTrue(nestsDeeperThan(deep(101), 100))
      const error = failureOf(yield* run(echo, { n: 1, text: deep(20_000) }))
      assert.strictEqual(error.tag, "InvalidArgument")
      assert.include(error.message, "nest more than 100 levels")
    })
  )

  it.effect("missing arguments count as {} for a tool without input", () =>
    Effect.gen(function* () {
      const outcome = yield* run(fake("noop", "keys", Tool.hints.read), undefined)
      assert.deepStrictEqual(outcome, { _tag: "Success", value: { ok: true }, json: '{"ok":true}' })
    })
  )

  it.effect("a typed failure becomes the envelope {tag, message, retryable, ...fields}", () =>
    Effect.gen(function* () {
      const failing = Tool.make({
        ...echo,
        handler: () =>
          Effect.fail(new VersionConflict({ message: "at version 7. Re-read and retry.", currentVersion: 7 }))
      })
      const error = failureOf(yield* run(failing, { n: 1 }))
      assert.deepStrictEqual(error, {
        tag: "VersionConflict",
        message: "at version 7. Re-read and retry.",
        retryable: false,
        currentVersion: 7
      })
    })
  )

  it.effect("a defect is an Internal error without details", () =>
    Effect.gen(function* () {
      const broken = Tool.make({ ...echo, handler: () => Effect.die(new Error("secret internals")) })
      const error = failureOf(yield* run(broken, { n: 1 }))
      assert.strictEqual(error.tag, "Internal")
      assert.isFalse(error.retryable)
      assert.notInclude(error.message, "secret internals")
    })
  )

  it.effect("an interrupted handler is Cancelled", () =>
    Effect.gen(function* () {
      const interrupted = Tool.make({ ...echo, handler: () => Effect.interrupt })
      const error = failureOf(yield* run(interrupted, { n: 1 }))
      assert.strictEqual(error.tag, "Cancelled")
    })
  )

  it.effect("an output over the cap is TooLarge with its size and the limit", () =>
    Effect.gen(function* () {
      const error = failureOf(yield* run(echo, { n: 1, text: "x".repeat(500) }, 100))
      assert.strictEqual(error.tag, "TooLarge")
      assert.strictEqual(error.limit, 100)
      assert.isAbove(error.size as number, 500)
    })
  )
})

describe("error envelope", () => {
  it("carries tag, message, retryable and the error's own fields, never _tag", () => {
    assert.deepStrictEqual(envelope(new WrongType({ message: "m", key: "k", actualType: "list" })), {
      tag: "WrongType",
      message: "m",
      retryable: false,
      key: "k",
      actualType: "list"
    })
    assert.deepStrictEqual(envelope(new NotFound({ message: "gone" })), {
      tag: "NotFound",
      message: "gone",
      retryable: false
    })
  })

  it("a success is structuredContent plus the same JSON as text", () => {
    const result = toResult({ _tag: "Success", value: { a: 1 }, json: '{"a":1}' })
    assert.deepStrictEqual(result.structuredContent, { a: 1 })
    assert.isUndefined(result.isError)
    assert.deepStrictEqual(result.content, [{ type: "text", text: '{"a":1}' }])
  })

  it("a failure is isError with one text block {error} and no structuredContent", () => {
    const error = { tag: "Timeout", message: "slow", retryable: true, timeoutMs: 5 }
    const result = toResult({ _tag: "Failure", error })
    assert.isTrue(result.isError)
    assert.notProperty(result, "structuredContent")
    assert.strictEqual(result.content.length, 1)
    const block = result.content[0]!
    assert.strictEqual(block.type, "text")
    assert.deepStrictEqual(JSON.parse(block.type === "text" ? block.text : ""), { error })
  })
})
