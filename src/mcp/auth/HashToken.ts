/**
 * `effect-redis-mcp hash-token`: read a token on stdin, print its SHA-256 hex on stdout (the
 * value for the auth file's `sha256`). The one subcommand that writes stdout: it serves no MCP.
 * One trailing line break is dropped, so `echo "$TOKEN" | effect-redis-mcp hash-token` and
 * `printf %s "$TOKEN" | …` agree; a token a bearer header cannot carry is refused.
 */
import { Effect } from "effect"
import { InvalidArgument } from "../../Errors.ts"
import { sha256Hex } from "./Tokens.ts"

/** Longest token read; anything longer is a mistake (a file piped in by accident). */
export const MAX_TOKEN_BYTES = 4096

/** Shorter tokens are accepted with a warning: they can be guessed. */
export const MIN_TOKEN_LENGTH = 32

/** RFC 6750 `b64token`: the characters a `Bearer` header carries. */
const b64token = /^[A-Za-z0-9\-._~+/]+=*$/

export interface Output {
  write(chunk: string, callback: (error?: Error | null) => void): unknown
}

const readAll = (stdin: AsyncIterable<Uint8Array | string>) =>
  Effect.tryPromise({
    try: async () => {
      const chunks: Array<Buffer> = []
      let size = 0
      for await (const chunk of stdin) {
        const buffer = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : Buffer.from(chunk)
        size += buffer.length
        if (size > MAX_TOKEN_BYTES) return undefined
        chunks.push(buffer)
      }
      return Buffer.concat(chunks).toString("utf8")
    },
    catch: (e) => new InvalidArgument({ message: `cannot read stdin: ${e instanceof Error ? e.message : String(e)}` })
  })

/** The token on stdin, checked: one trailing line break dropped, nothing a bearer header cannot carry. */
export const readToken = Effect.fn("HashToken.readToken")(function* (
  stdin: AsyncIterable<Uint8Array | string>,
  warn: (message: string) => void
) {
  const raw = yield* readAll(stdin)
  if (raw === undefined) {
    return yield* new InvalidArgument({ message: `more than ${MAX_TOKEN_BYTES} bytes on stdin; give the token only` })
  }
  const token = raw.replace(/\r?\n$/, "")
  if (token === "") {
    return yield* new InvalidArgument({
      message: 'no token on stdin; usage: printf %s "$TOKEN" | effect-redis-mcp hash-token'
    })
  }
  if (!b64token.test(token)) {
    return yield* new InvalidArgument({
      message:
        "the token has characters a Bearer header cannot carry (spaces, line breaks, …); use letters, digits and - . _ ~ + /, e.g. openssl rand -hex 32"
    })
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    warn(`the token is only ${token.length} characters; use ${MIN_TOKEN_LENGTH} or more random ones`)
  }
  return token
})

/**
 * Read the token from `stdin` and write its SHA-256 hex and a newline to `stdout`; a warning (a
 * short token) goes to `stderr` when given — never to a logger, whose default is stdout.
 * A refused token fails with `InvalidArgument` (the caller prints it to stderr and exits 2).
 */
export const hashTokenCommand = Effect.fn("HashToken.command")(function* (
  stdin: AsyncIterable<Uint8Array | string>,
  stdout: Output,
  stderr?: { write(chunk: string): unknown }
) {
  const token = yield* readToken(stdin, (message) =>
    stderr?.write(`effect-redis-mcp hash-token: warning: ${message}\n`)
  )
  const line = `${sha256Hex(token)}\n`
  yield* Effect.callback<void, InvalidArgument>((resume) => {
    stdout.write(line, (error) =>
      resume(
        error ? Effect.fail(new InvalidArgument({ message: `cannot write stdout: ${error.message}` })) : Effect.void
      )
    )
  })
})

/** The subcommand as a program: its exit code, 0, or 2 with the reason on `stderr` when the token is refused. */
export const hashTokenMain = (
  stdin: AsyncIterable<Uint8Array | string>,
  stdout: Output,
  stderr: { write(chunk: string): unknown }
): Promise<number> =>
  Effect.runPromise(
    hashTokenCommand(stdin, stdout, stderr).pipe(
      Effect.as(0),
      Effect.catch((e) =>
        Effect.sync(() => {
          stderr.write(`effect-redis-mcp hash-token: ${e.message}\n`)
          return 2
        })
      )
    )
  )
