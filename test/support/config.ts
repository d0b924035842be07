/**
 * Rendering redis.conf / sentinel.conf files. Every value is double-quoted
 * (redis' sdssplitargs rules), so passwords may contain spaces or quotes.
 */

/** One config directive: name followed by its arguments. */
export type Directive = readonly [name: string, ...args: string[]]

/** Quotes one argument for a Redis config file. */
export const quote = (value: string): string =>
  `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r")}"`

/** Renders directives as config file text. */
export const renderConfig = (directives: readonly Directive[]): string =>
  `${directives.map(([name, ...args]) => [name, ...args.map(quote)].join(" ")).join("\n")}\n`

/** An ACL user created at startup through a `user` directive. */
export interface AclUser {
  readonly name: string
  readonly password: string
  /** ACL rules separated by spaces, e.g. "~* &* +@read -@dangerous +ping +info". */
  readonly rules: string
}

/** `user <name> on ><password> <rules...>` */
export const userDirective = (user: AclUser): Directive => [
  "user",
  user.name,
  "on",
  `>${user.password}`,
  ...user.rules.split(/\s+/).filter((rule) => rule !== "")
]
