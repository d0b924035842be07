/**
 * The auth file of SERVICE.md (`REDIS_MCP_AUTH_FILE`): roles and hashed tokens, as JSON.
 * Decoded with an Effect Schema that refuses unknown fields (a typo such as `"readonly"` must not
 * silently leave a role writable), then checked across fields (a token's role exists, no name or
 * hash twice). Every problem is one line naming where it is.
 */
import { open } from "node:fs/promises"
import { Effect, Schema, SchemaIssue } from "effect"
import { AuthFileError } from "./AuthErrors.ts"
import { makeRole, type Role, type RoleSpec } from "./Role.ts"

/** The toolset names a role may give (the server's, passed in so this module does not own them). */
export interface ToolsetCatalog {
  readonly known: ReadonlyArray<string>
  /** What `default` expands to; `all` always expands to `known`. */
  readonly defaults: ReadonlyArray<string>
}

export interface TokenEntry {
  readonly name: string
  /** SHA-256 of the token, 32 bytes. */
  readonly digest: Buffer
  readonly role: string
}

/** A loaded auth file. Replaced whole on reload, never mutated. */
export interface AuthState {
  readonly path: string | undefined
  readonly roles: ReadonlyMap<string, Role>
  readonly tokens: ReadonlyArray<TokenEntry>
}

/** No auth file: no roles, no tokens. */
export const emptyAuthState: AuthState = { path: undefined, roles: new Map(), tokens: [] }

/** Bounds on a hostile or mistaken file: it is read whole, so its size is checked first. */
export const MAX_FILE_BYTES = 1024 * 1024
const MAX_TOKENS = 10_000
const MAX_PATTERNS = 1000
const MAX_PATTERN_LENGTH = 1024

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/
const nameRule = "must be 1 to 128 letters, digits or _ . : @ - (starting with a letter or digit)"
const Name = Schema.String.check(Schema.isPattern(namePattern, { message: nameRule }))

const Patterns = Schema.Array(
  Schema.String.check(
    Schema.isMaxLength(MAX_PATTERN_LENGTH, { message: `longer than ${MAX_PATTERN_LENGTH} characters` })
  )
).check(Schema.isMaxLength(MAX_PATTERNS, { message: `more than ${MAX_PATTERNS} patterns` }))

const toolsetWords = (catalog: ToolsetCatalog) =>
  Schema.Array(Schema.String)
    .check(Schema.isMinLength(1, { message: "names no toolset" }))
    .check(
      Schema.makeFilter((words) => {
        const allowed = new Set([...catalog.known, "all", "default"])
        const at = words.findIndex((w) => !allowed.has(w.trim().toLowerCase()))
        return at < 0
          ? undefined
          : { path: [at], issue: `unknown toolset "${words[at]}"; known: ${catalog.known.join(", ")}, default, all` }
      })
    )

const roleSchema = (catalog: ToolsetCatalog) =>
  Schema.Struct({
    toolsets: toolsetWords(catalog),
    readOnly: Schema.optionalKey(Schema.Boolean),
    keys: Schema.optionalKey(Patterns),
    channels: Schema.optionalKey(Patterns),
    queues: Schema.optionalKey(Patterns),
    namespaces: Schema.optionalKey(Patterns)
  })

const Token = Schema.Struct({
  name: Name,
  sha256: Schema.String.check(
    Schema.isPattern(/^[0-9a-fA-F]{64}$/, {
      message: "must be 64 hex digits: the SHA-256 of the token (effect-redis-mcp hash-token prints it)"
    })
  ),
  role: Schema.String
})

type FileShape = {
  readonly roles: Readonly<Record<string, unknown>>
  readonly tokens?: ReadonlyArray<typeof Token.Type>
}

/** Cross-field rules: each token's role exists; no token name or hash appears twice. */
const consistent = Schema.makeFilter((file: FileShape) => {
  const names = new Map<string, number>()
  const hashes = new Map<string, number>()
  for (const [i, t] of (file.tokens ?? []).entries()) {
    if (!Object.hasOwn(file.roles, t.role)) {
      return { path: ["tokens", i, "role"], issue: `no role named "${t.role}" in "roles"` }
    }
    const sameName = names.get(t.name)
    if (sameName !== undefined) return { path: ["tokens", i, "name"], issue: `"${t.name}" is also tokens[${sameName}]` }
    const hash = t.sha256.toLowerCase()
    const sameHash = hashes.get(hash)
    if (sameHash !== undefined) return { path: ["tokens", i, "sha256"], issue: `the same hash as tokens[${sameHash}]` }
    names.set(t.name, i)
    hashes.set(hash, i)
  }
  return undefined
})

const fileSchema = (catalog: ToolsetCatalog) =>
  Schema.Struct({
    roles: Schema.Record(Schema.String, roleSchema(catalog)).check(
      Schema.makeFilter((roles) => {
        const wrong = Object.keys(roles).find((name) => !namePattern.test(name))
        return wrong === undefined ? undefined : { path: [wrong], issue: `a role name ${nameRule}` }
      })
    ),
    tokens: Schema.optionalKey(
      Schema.Array(Token).check(Schema.isMaxLength(MAX_TOKENS, { message: `more than ${MAX_TOKENS} tokens` }))
    )
  }).check(consistent)

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const pathText = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined): string =>
  (path ?? [])
    .map((p) => (typeof p === "object" ? p.key : p))
    .reduce<string>((out, key, i) => {
      if (typeof key === "number") return `${out}[${key}]`
      const k = String(key)
      return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (i === 0 ? k : `${out}.${k}`) : `${out}[${JSON.stringify(k)}]`
    }, "")

const issueLine = (issue: SchemaIssue.Issue): string => {
  const first = formatter(issue).issues[0]
  if (first === undefined) return "invalid"
  const where = pathText(first.path)
  if (where === "") return `the file must be a JSON object with "roles" (and "tokens"): ${first.message.toLowerCase()}`
  const what = first.message === "Expected no excess property" ? "unknown field" : first.message
  return `${where}: ${what.charAt(0).toLowerCase()}${what.slice(1)}`
}

const expandToolsets = (words: ReadonlyArray<string>, catalog: ToolsetCatalog): ReadonlyArray<string> => {
  const out = new Set<string>()
  for (const word of words.map((w) => w.trim().toLowerCase())) {
    if (word === "all") for (const t of catalog.known) out.add(t)
    else if (word === "default") for (const t of catalog.defaults) out.add(t)
    else out.add(word)
  }
  return catalog.known.filter((t) => out.has(t))
}

/** The auth file's text as a state, or one line saying what is wrong. */
export const parseAuthFile = (text: string, catalog: ToolsetCatalog, path?: string): AuthState | string => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return `not valid JSON: ${e instanceof Error ? e.message : String(e)}`
  }
  const decoded = Schema.decodeUnknownExit(fileSchema(catalog))(json, { onExcessProperty: "error" })
  if (decoded._tag === "Failure") {
    const error = decoded.cause.reasons.find((r) => r._tag === "Fail")?.error
    return error ? issueLine(error.issue) : "invalid"
  }
  const file = decoded.value
  const roles = new Map<string, Role>()
  for (const [name, spec] of Object.entries(file.roles)) {
    const expanded: RoleSpec = { ...spec, toolsets: expandToolsets(spec.toolsets, catalog) }
    roles.set(name, makeRole(name, expanded))
  }
  const tokens = (file.tokens ?? []).map((t) => ({ name: t.name, digest: Buffer.from(t.sha256, "hex"), role: t.role }))
  return { path, roles, tokens }
}

const readBounded = (path: string) =>
  Effect.tryPromise({
    try: async () => {
      const handle = await open(path, "r")
      try {
        const { size } = await handle.stat()
        if (size > MAX_FILE_BYTES) return { tooLarge: size }
        return { text: await handle.readFile("utf8") }
      } finally {
        await handle.close()
      }
    },
    catch: (e) => {
      const code = (e as { code?: string }).code
      return code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : `cannot read it (${code ?? e})`
    }
  })

/** Read and parse the auth file; a failure is one line naming the file and the problem. */
export const loadAuthFile = Effect.fn("AuthFile.load")(function* (path: string, catalog: ToolsetCatalog) {
  const fail = (problem: string) => new AuthFileError({ path, message: `REDIS_MCP_AUTH_FILE (${path}): ${problem}` })
  const read = yield* readBounded(path).pipe(Effect.mapError(fail))
  if ("tooLarge" in read) return yield* fail(`${read.tooLarge} bytes, more than the ${MAX_FILE_BYTES} allowed`)
  const state = parseAuthFile(read.text ?? "", catalog, path)
  return typeof state === "string" ? yield* fail(state) : state
})
