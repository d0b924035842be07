/**
 * When is a glob pattern (a `psubscribe` pattern, a `scan` MATCH) inside a role's patterns?
 * Exactly deciding "every name pattern P matches is matched by pattern R" for Redis globs is
 * possible but intricate; this answers a sound subset instead, which is all a role needs:
 *
 * 1. P has no wildcard (after unescaping it names one channel): R must match that name.
 * 2. R is P, character for character: the same pattern matches the same names.
 * 3. R is a literal prefix followed only by `*` (`build:*`, `*`): every name P matches starts
 *    with P's literal prefix (the text before its first unescaped `*`, `?` or `[`), so if that
 *    starts with R's prefix, R matches every such name.
 *
 * Anything else is refused (never wrongly allowed): `news.*` is not covered by `news.[a-z]*` even
 * though a person might see that it is, so such roles should list the prefix form.
 */

/** A pattern split at its first unescaped wildcard: the literal text before it (unescaped) and the raw rest. */
export interface PatternHead {
  readonly prefix: string
  readonly rest: string
}

/** `pattern`'s literal prefix and what follows it; `rest` is empty when the pattern is a plain name. */
export const patternHead = (pattern: string): PatternHead => {
  const chars = Array.from(pattern)
  let prefix = ""
  let i = 0
  while (i < chars.length) {
    const ch = chars[i]!
    if (ch === "*" || ch === "?" || ch === "[") break
    if (ch === "\\" && i + 1 < chars.length) i++
    prefix += chars[i]!
    i++
  }
  return { prefix, rest: chars.slice(i).join("") }
}

/** True when every name `pattern` can match is matched by `rolePattern` (see the rules above). */
export const covers = (rolePattern: string, pattern: string, roleMatches: (name: string) => boolean): boolean => {
  const head = patternHead(pattern)
  if (head.rest === "") return roleMatches(head.prefix)
  if (rolePattern === pattern) return true
  const role = patternHead(rolePattern)
  return /^\*+$/.test(role.rest) && head.prefix.startsWith(role.prefix)
}
