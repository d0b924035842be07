/**
 * Token hashing and look-up, and the `hash-token` subcommand: what it prints is what the auth
 * file needs for the same token to be accepted.
 */
import { createHash } from "node:crypto"
import { Readable, Writable } from "node:stream"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Authenticator } from "../../src/mcp/auth/Authenticator.ts"
import { hashTokenCommand, MAX_TOKEN_BYTES } from "../../src/mcp/auth/HashToken.ts"
import { findToken, sha256, sha256Hex } from "../../src/mcp/auth/Tokens.ts"
import { authDir, authLayers } from "../support/auth.ts"

describe("sha256", () => {
  it("matches the FIPS 180-2 test vectors", () => {
    assert.strictEqual(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert.strictEqual(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert.strictEqual(sha256("abc").length, 32)
  })

  it("hashes UTF-8 bytes", () => {
    const utf8 = createHash("sha256")
      .update(Buffer.from([0xc3, 0xa9]))
      .digest("hex")
    const latin1 = createHash("sha256")
      .update(Buffer.from([0xe9]))
      .digest("hex")
    assert.strictEqual(sha256Hex("é"), utf8)
    assert.notStrictEqual(sha256Hex("é"), latin1)
  })
})

describe("findToken", () => {
  const entries = Array.from({ length: 50 }, (_, i) => ({ name: `t${i}`, digest: sha256(`token-${i}`), role: "r" }))

  it("finds the entry whose digest is the token's, wherever it is", () => {
    for (const i of [0, 17, 49]) assert.strictEqual(findToken(entries, `token-${i}`)?.name, `t${i}`)
  })

  it("finds nothing for other tokens, prefixes, the digest itself, or an empty list", () => {
    for (const t of ["token-50", "token-", "token-1 ", "", sha256Hex("token-1")])
      assert.isUndefined(findToken(entries, t))
    assert.isUndefined(findToken([], "token-1"))
  })
})

const output = () => {
  const chunks: Array<string> = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(chunk.toString())
      done()
    }
  })
  return { stream, text: () => chunks.join("") }
}

const run = (input: string | ReadonlyArray<string>) => {
  const out = output()
  return hashTokenCommand(Readable.from(typeof input === "string" ? [input] : input), out.stream).pipe(
    Effect.map(() => out.text())
  )
}

describe("hash-token", () => {
  const token = "k2P9w-vX_3rT~u7+b/Qz1=="

  it.effect("prints the hex SHA-256 and a newline; one trailing line break is not part of the token", () =>
    Effect.gen(function* () {
      const expected = `${sha256Hex(token)}\n`
      assert.strictEqual(yield* run(token), expected)
      assert.strictEqual(yield* run(`${token}\n`), expected)
      assert.strictEqual(yield* run(`${token}\r\n`), expected)
      assert.strictEqual(yield* run([token.slice(0, 5), token.slice(5), "\n"]), expected)
    })
  )

  it.effect("refuses what a bearer header cannot carry, with a clear message", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["", "no token on stdin"],
        ["\n", "no token on stdin"],
        ["two words", "cannot carry"],
        ["line\nbreak\n", "cannot carry"],
        [`${token}\n\n`, "cannot carry"],
        ["tab\there", "cannot carry"],
        ["x".repeat(MAX_TOKEN_BYTES + 1), `more than ${MAX_TOKEN_BYTES} bytes`]
      ]
      for (const [input, message] of cases) {
        const out = output()
        const error = yield* Effect.flip(hashTokenCommand(Readable.from([input]), out.stream))
        assert.strictEqual(error._tag, "InvalidArgument", JSON.stringify(input))
        assert.include(error.message, message)
        assert.strictEqual(out.text(), "", "nothing on stdout")
      }
    })
  )

  it.effect("a short token is hashed with a warning on stderr, stdout keeps the hash only", () =>
    Effect.gen(function* () {
      const out = output()
      const err = output()
      yield* hashTokenCommand(Readable.from(["short\n"]), out.stream, err.stream)
      assert.strictEqual(out.text(), `${sha256Hex("short")}\n`)
      assert.include(err.text(), "warning: the token is only 5 characters")
      const quiet = output()
      yield* hashTokenCommand(Readable.from(["x".repeat(40)]), output().stream, quiet.stream)
      assert.strictEqual(quiet.text(), "")
    })
  )

  it.effect("stops reading once the input is over the cap", () =>
    Effect.gen(function* () {
      let pulled = 0
      const endless = Readable.from(
        (function* () {
          for (;;) {
            pulled++
            yield "x".repeat(1024)
          }
        })()
      )
      const error = yield* Effect.flip(hashTokenCommand(endless, output().stream))
      assert.include(error.message, "more than")
      assert.isAtMost(pulled, MAX_TOKEN_BYTES / 1024 + 2)
    })
  )

  describe("round trip through the auth file", () => {
    let files: Awaited<ReturnType<typeof authDir>>
    beforeAll(async () => {
      files = await authDir()
    })
    afterAll(() => files.dispose())

    it.effect("the printed hash, put in the file, makes the token work", () =>
      Effect.gen(function* () {
        const printed = (yield* run(`${token}\n`)).trim()
        const path = yield* Effect.promise(() =>
          files.write("auth.json", {
            roles: { r: { toolsets: ["keys"] } },
            tokens: [{ name: "bot", sha256: printed, role: "r" }]
          })
        )
        const principal = yield* Authenticator.use((a) => a.verify(token)).pipe(
          Effect.provide(authLayers({ REDIS_MCP_AUTH_FILE: path }))
        )
        assert.strictEqual(principal.id, "token:bot")
      })
    )
  })
})
