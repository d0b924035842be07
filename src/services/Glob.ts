/**
 * Redis glob patterns (SCAN MATCH, KEYS) as RegExps, following Redis's
 * `stringmatchlen`: `*` any run, `?` one character, `[abc]` `[a-z]` `[^a]`
 * classes (a reversed range is swapped, `[]` matches nothing, an unclosed `[`
 * runs to the end of the pattern), `\x` a literal `x`. Redis compares bytes; this
 * compares characters, which is the same for ASCII.
 */

const regexSpecial = /[\\^$.*+?()[\]{}|/]/

const literal = (ch: string): string => (regexSpecial.test(ch) ? `\\${ch}` : ch)
const inClass = (ch: string): string => `\\u{${ch.codePointAt(0)!.toString(16)}}`

/** The RegExp matching exactly the strings Redis's glob `pattern` matches. */
export const globToRegExp = (pattern: string): RegExp => {
  const p = Array.from(pattern)
  let out = ""
  let i = 0
  while (i < p.length) {
    const ch = p[i]!
    if (ch === "*") {
      while (p[i + 1] === "*") i++
      out += "[\\s\\S]*"
    } else if (ch === "?") {
      out += "[\\s\\S]"
    } else if (ch === "[") {
      i++
      const negate = p[i] === "^"
      if (negate) i++
      const members: Array<string> = []
      while (i < p.length && p[i] !== "]") {
        if (p[i] === "\\" && i + 1 < p.length) {
          i++
          members.push(inClass(p[i]!))
        } else if (i + 2 < p.length && p[i + 1] === "-") {
          const [a, b] = [p[i]!, p[i + 2]!].sort((x, y) => x.codePointAt(0)! - y.codePointAt(0)!)
          members.push(`${inClass(a!)}-${inClass(b!)}`)
          i += 2
        } else {
          members.push(inClass(p[i]!))
        }
        i++
      }
      if (members.length === 0) out += negate ? "[\\s\\S]" : "(?!)"
      else out += `[${negate ? "^" : ""}${members.join("")}]`
    } else if (ch === "\\") {
      if (i + 1 < p.length) i++
      out += literal(p[i]!)
    } else {
      out += literal(ch)
    }
    i++
  }
  return new RegExp(`^${out}$`, "u")
}

/** A predicate for one pattern (compiled once). */
export const matcher = (pattern: string): ((s: string) => boolean) => {
  const re = globToRegExp(pattern)
  return (s) => re.test(s)
}

/** `text` as a glob that matches only itself (for a key prefix in MATCH). */
export const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`)
