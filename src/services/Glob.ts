/**
 * Redis glob patterns (SCAN MATCH, KEYS, PSUBSCRIBE, and the role patterns) with
 * the semantics of Redis's `stringmatchlen`, byte for byte: `*` any run, `?` one
 * byte, `[abc]` `[a-z]` `[^a]` classes, `\x` a literal `x`, and Redis's quirks
 * (a reversed range is swapped, ranges compare bytes as signed chars, `[]`
 * matches nothing, an unclosed `[` runs to the end of the pattern, an empty
 * string matches only the empty pattern). The pattern `*` alone matches every
 * name, the empty one included, as SCAN, KEYS and ACL key patterns special-case
 * it (only PSUBSCRIBE does not, which differs for an empty channel alone).
 *
 * The pattern is compiled once into single-byte tokens and stars, and matched by
 * the two-pointer wildcard algorithm: on a mismatch it only backs up to the last
 * star, so a match costs at most (string bytes + 1) × (tokens + 1) steps, never
 * the exponential blow-up of a backtracking RegExp.
 */

/** Longest pattern the typed tools accept, in UTF-8 bytes. */
export const MAX_GLOB_BYTES = 256

export interface GlobOptions {
  /** Compare ASCII letters case-insensitively (Redis's `nocase`). @default false */
  readonly nocase?: boolean
}

type Member =
  | { readonly _tag: "byte"; readonly byte: number }
  | { readonly _tag: "escaped"; readonly byte: number }
  | { readonly _tag: "range"; readonly from: number; readonly to: number }

type Token =
  | { readonly _tag: "star" }
  | { readonly _tag: "any" }
  | { readonly _tag: "byte"; readonly byte: number }
  | { readonly _tag: "class"; readonly negate: boolean; readonly members: ReadonlyArray<Member> }

/** A compiled pattern. */
export interface Glob {
  readonly pattern: string
  /** Does `text` (a string, taken as its UTF-8 bytes, or the bytes themselves) match? */
  readonly test: (text: string | Uint8Array) => boolean
  /** The same answer, with the number of comparison steps it took. */
  readonly run: (text: string | Uint8Array) => { readonly matched: boolean; readonly steps: number }
}

/** C's `char` is signed on the platforms Redis runs on; its ranges compare that way. */
const signed = (b: number) => (b > 127 ? b - 256 : b)
/** C's `tolower` in the "C" locale: only A-Z change. */
const lower = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c)

/** Tokenise as `stringmatchlen` walks the pattern (its positions never depend on the string). */
const tokenize = (p: Uint8Array): Array<Token> => {
  const tokens: Array<Token> = []
  const at = (i: number) => (i < p.length ? p[i]! : 0)
  let i = 0
  while (i < p.length) {
    const c = p[i]!
    if (c === 0x2a /* * */) {
      while (at(i + 1) === 0x2a && i + 1 < p.length) i++
      tokens.push({ _tag: "star" })
    } else if (c === 0x3f /* ? */) {
      tokens.push({ _tag: "any" })
    } else if (c === 0x5b /* [ */) {
      i++
      const negate = at(i) === 0x5e /* ^ */ && i < p.length
      if (negate) i++
      const members: Array<Member> = []
      while (true) {
        const left = p.length - i
        if (at(i) === 0x5c /* \ */ && left >= 2) {
          i++
          members.push({ _tag: "escaped", byte: p[i]! })
        } else if (at(i) === 0x5d /* ] */ && left > 0) {
          break
        } else if (left <= 0) {
          i--
          break
        } else if (left >= 3 && p[i + 1] === 0x2d /* - */) {
          const a = signed(p[i]!)
          const b = signed(p[i + 2]!)
          members.push({ _tag: "range", from: Math.min(a, b), to: Math.max(a, b) })
          i += 2
        } else {
          members.push({ _tag: "byte", byte: p[i]! })
        }
        i++
      }
      tokens.push({ _tag: "class", negate, members })
    } else if (c === 0x5c /* \ */) {
      if (p.length - i >= 2) i++
      tokens.push({ _tag: "byte", byte: p[i]! })
    } else {
      tokens.push({ _tag: "byte", byte: c })
    }
    i++
  }
  return tokens
}

const inClass = (members: ReadonlyArray<Member>, b: number, nocase: boolean): boolean => {
  for (const m of members) {
    switch (m._tag) {
      case "escaped":
        if (m.byte === b) return true
        break
      case "byte":
        if (nocase ? lower(m.byte) === lower(b) : m.byte === b) return true
        break
      case "range": {
        const c = nocase ? lower(signed(b)) : signed(b)
        if (nocase ? c >= lower(m.from) && c <= lower(m.to) : c >= m.from && c <= m.to) return true
        break
      }
    }
  }
  return false
}

const matchesOne = (t: Token, b: number, nocase: boolean): boolean => {
  switch (t._tag) {
    case "any":
      return true
    case "byte":
      return nocase ? lower(t.byte) === lower(b) : t.byte === b
    case "class":
      return inClass(t.members, b, nocase) !== t.negate
    case "star":
      return false
  }
}

const bytesOf = (text: string | Uint8Array): Uint8Array => (typeof text === "string" ? Buffer.from(text, "utf8") : text)

/** Compile `pattern` once; the returned Glob matches any number of strings. */
export const compileGlob = (pattern: string, options: GlobOptions = {}): Glob => {
  if (pattern === "*") return { pattern, run: () => ({ matched: true, steps: 0 }), test: () => true }
  const tokens = tokenize(Buffer.from(pattern, "utf8"))
  const nocase = options.nocase === true
  const run = (text: string | Uint8Array) => {
    const s = bytesOf(text)
    // stringmatchlen never enters its loop for an empty string: only the empty pattern matches it.
    if (s.length === 0) return { matched: tokens.length === 0, steps: 1 }
    let steps = 0
    let ti = 0
    let si = 0
    let starAt = -1
    let resumeAt = 0
    while (si < s.length) {
      steps++
      const t = tokens[ti]
      if (t?._tag === "star") {
        starAt = ti++
        resumeAt = si
      } else if (t !== undefined && matchesOne(t, s[si]!, nocase)) {
        ti++
        si++
      } else if (starAt >= 0) {
        ti = starAt + 1
        si = ++resumeAt
      } else {
        return { matched: false, steps }
      }
    }
    while (tokens[ti]?._tag === "star") ti++
    return { matched: ti === tokens.length, steps }
  }
  return { pattern, run, test: (text) => run(text).matched }
}

/** A predicate for one pattern (compiled once). */
export const matcher = (pattern: string, options?: GlobOptions): ((s: string) => boolean) =>
  compileGlob(pattern, options).test

/** `text` as a glob that matches only itself (for a key prefix in MATCH). */
export const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
