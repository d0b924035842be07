/**
 * The auth file: a valid file gives roles (toolsets expanded) and token digests; every invalid
 * file is refused with one line naming where the problem is.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type AuthState, loadAuthFile, MAX_FILE_BYTES, parseAuthFile } from "../../src/mcp/auth/AuthFile.ts"
import { sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { catalog } from "../support/auth.ts"

const hash = sha256Hex("reader-token")

const parsed = (file: unknown): AuthState => {
  const result = parseAuthFile(JSON.stringify(file), catalog)
  if (typeof result === "string") throw new Error(result)
  return result
}

describe("a valid auth file", () => {
  it("gives roles with expanded toolsets, defaults, lists, and token digests", () => {
    const state = parsed({
      roles: {
        reader: { toolsets: ["keys", "state"], readOnly: true, keys: ["app:*"] },
        worker: { toolsets: ["task", "state"], queues: ["build-*"], namespaces: ["build"] },
        admin: { toolsets: ["all"] },
        usual: { toolsets: ["Default", " hash "] },
        bare: { toolsets: ["keys"], keys: [], channels: ["news.*"] }
      },
      tokens: [{ name: "ci-bot", sha256: hash.toUpperCase(), role: "reader" }]
    })
    const reader = state.roles.get("reader")!
    assert.deepStrictEqual(reader.toolsets, ["keys", "state"])
    assert.isTrue(reader.readOnly)
    assert.deepStrictEqual(reader.keys?.patterns, ["app:*"])
    assert.isUndefined(reader.channels)
    const worker = state.roles.get("worker")!
    assert.isFalse(worker.readOnly)
    assert.deepStrictEqual(worker.queues?.patterns, ["build-*"])
    assert.deepStrictEqual(worker.namespaces?.patterns, ["build"])
    assert.deepStrictEqual(state.roles.get("admin")!.toolsets, catalog.known)
    assert.deepStrictEqual(state.roles.get("usual")!.toolsets, ["keys", "hash", "task", "state"])
    assert.deepStrictEqual(state.roles.get("bare")!.keys?.patterns, [])
    assert.strictEqual(state.tokens.length, 1)
    assert.strictEqual(state.tokens[0]!.name, "ci-bot")
    assert.strictEqual(state.tokens[0]!.digest.toString("hex"), hash)
  })

  it("roles without tokens (OAuth names them) and no tokens key at all", () => {
    const state = parsed({ roles: { reader: { toolsets: ["keys"] } } })
    assert.strictEqual(state.tokens.length, 0)
    assert.strictEqual(state.roles.size, 1)
  })
})

describe("an invalid auth file names the problem", () => {
  const good = { toolsets: ["keys"] }
  const token = (over: object = {}) => ({ name: "bot", sha256: hash, role: "r", ...over })
  const cases: ReadonlyArray<readonly [string, string | object, string]> = [
    ["not JSON", "{roles:", "not valid JSON"],
    ["not an object", [], 'the file must be a JSON object with "roles"'],
    ["no roles", { tokens: [] }, "roles: missing"],
    ["roles not an object", { roles: ["r"] }, "roles: expected object"],
    [
      "unknown toolset",
      { roles: { r: { toolsets: ["keys", "nope"] } } },
      'roles.r.toolsets[1]: unknown toolset "nope"'
    ],
    ["no toolset", { roles: { r: { toolsets: [] } } }, "roles.r.toolsets: names no toolset"],
    ["no toolsets key", { roles: { r: { readOnly: true } } }, "roles.r.toolsets: missing"],
    ["a typo: readonly", { roles: { r: { toolsets: ["keys"], readonly: true } } }, "roles.r.readonly: unknown field"],
    [
      "readOnly not a boolean",
      { roles: { r: { toolsets: ["keys"], readOnly: "yes" } } },
      "roles.r.readOnly: expected boolean"
    ],
    ["keys not a list", { roles: { r: { toolsets: ["keys"], keys: "app:*" } } }, "roles.r.keys: expected array"],
    [
      "a pattern not a string",
      { roles: { r: { toolsets: ["keys"], channels: [1] } } },
      "roles.r.channels[0]: expected string"
    ],
    [
      "a pattern too long",
      { roles: { r: { toolsets: ["keys"], queues: ["q".repeat(2000)] } } },
      "roles.r.queues[0]: longer than 1024"
    ],
    ["a bad role name", { roles: { "read er": good } }, 'roles["read er"]: a role name must be'],
    ["an unknown top-level field", { roles: { r: good }, token: [] }, "token: unknown field"],
    ["tokens not a list", { roles: { r: good }, tokens: {} }, "tokens: expected array"],
    [
      "a token without a hash",
      { roles: { r: good }, tokens: [{ name: "bot", role: "r" }] },
      "tokens[0].sha256: missing"
    ],
    [
      "a hash not hex",
      { roles: { r: good }, tokens: [token({ sha256: "xyz" })] },
      "tokens[0].sha256: must be 64 hex digits"
    ],
    [
      "a plain token instead of its hash",
      { roles: { r: good }, tokens: [token({ sha256: "reader-token" })] },
      "hash-token prints it"
    ],
    [
      "a token for a missing role",
      { roles: { r: good }, tokens: [token({ role: "admin" })] },
      'tokens[0].role: no role named "admin"'
    ],
    [
      "a token for an inherited property name",
      { roles: { r: good }, tokens: [token({ role: "constructor" })] },
      'no role named "constructor"'
    ],
    ["a bad token name", { roles: { r: good }, tokens: [token({ name: "" })] }, "tokens[0].name: must be 1 to 128"],
    [
      "a token name twice",
      { roles: { r: good }, tokens: [token(), token({ sha256: sha256Hex("other") })] },
      'tokens[1].name: "bot" is also tokens[0]'
    ],
    [
      "a hash twice (case aside)",
      { roles: { r: good }, tokens: [token(), token({ name: "bot2", sha256: hash.toUpperCase() })] },
      "tokens[1].sha256: the same hash as tokens[0]"
    ],
    [
      "an unknown token field",
      { roles: { r: good }, tokens: [token({ token: "plain" })] },
      "tokens[0].token: unknown field"
    ]
  ]
  for (const [name, file, expected] of cases) {
    it(name, () => {
      const result = parseAuthFile(typeof file === "string" ? file : JSON.stringify(file), catalog)
      assert.isString(result)
      assert.include(result, expected)
      assert.notInclude(result as string, "\n")
    })
  }
})

describe("loadAuthFile", () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "auth-file-"))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it.effect("reads a valid file", () =>
    Effect.gen(function* () {
      const path = join(dir, "ok.json")
      yield* Effect.promise(() => writeFile(path, JSON.stringify({ roles: { r: { toolsets: ["keys"] } } })))
      const state = yield* loadAuthFile(path, catalog)
      assert.strictEqual(state.path, path)
      assert.isTrue(state.roles.has("r"))
    })
  )

  it.effect("a missing file: the setting, the path and the reason", () =>
    Effect.gen(function* () {
      const path = join(dir, "absent.json")
      const error = yield* Effect.flip(loadAuthFile(path, catalog))
      assert.strictEqual(error._tag, "AuthFileError")
      assert.strictEqual(error.message, `REDIS_MCP_AUTH_FILE (${path}): no such file`)
    })
  )

  it.effect("an invalid file: the path and the problem on one line", () =>
    Effect.gen(function* () {
      const path = join(dir, "bad.json")
      yield* Effect.promise(() => writeFile(path, JSON.stringify({ roles: { r: { toolsets: ["nope"] } } })))
      const error = yield* Effect.flip(loadAuthFile(path, catalog))
      assert.match(
        error.message,
        /^REDIS_MCP_AUTH_FILE \(.*bad\.json\): roles\.r\.toolsets\[0\]: unknown toolset "nope"/
      )
    })
  )

  it.effect("a file over the size cap is refused before it is read", () =>
    Effect.gen(function* () {
      const path = join(dir, "big.json")
      yield* Effect.promise(() => writeFile(path, " ".repeat(MAX_FILE_BYTES + 1)))
      const error = yield* Effect.flip(loadAuthFile(path, catalog))
      assert.include(error.message, `more than the ${MAX_FILE_BYTES} allowed`)
    })
  )

  it.effect("a directory is not a file", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(loadAuthFile(dir, catalog))
      assert.include(error.message, "cannot read it")
    })
  )
})
