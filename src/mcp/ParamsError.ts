/**
 * The SDK's request validation, for a spec method whose params do not fit its
 * schema (`logging/setLevel` with an unknown level, `resources/read` or
 * `prompts/get` without their `uri` / `name`), throws a plain Error carrying the
 * validator's issues as pretty-printed JSON, which it answers as -32603 Internal
 * error. This turns that into what it is, -32602 Invalid params, with one line a
 * client can act on: where each issue is and what is wrong there.
 */
import { ProtocolError } from "@modelcontextprotocol/server"
import { INVALID_PARAMS } from "./Envelope.ts"

interface Issue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

const MAX_ISSUES = 5

const isIssue = (value: unknown): value is Issue =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Issue).message === "string" &&
  Array.isArray((value as Issue).path)

/** The validator's issues in `error`, or undefined when it is any other error. */
const issuesOf = (error: unknown): ReadonlyArray<Issue> | undefined => {
  if (!(error instanceof Error) || error.constructor !== Error || !error.message.startsWith("[")) return undefined
  try {
    const parsed: unknown = JSON.parse(error.message)
    return Array.isArray(parsed) && parsed.length > 0 && parsed.every(isIssue) ? parsed : undefined
  } catch {
    return undefined
  }
}

/** An Invalid params error for `method` when `error` is the SDK's validation failure; undefined otherwise. */
export const invalidParams = (method: string, error: unknown): ProtocolError | undefined => {
  const issues = issuesOf(error)
  if (issues === undefined) return undefined
  const described = issues
    .slice(0, MAX_ISSUES)
    .map((issue) => `${issue.path.length === 0 ? "(request)" : issue.path.join(".")}: ${issue.message}`)
  if (issues.length > MAX_ISSUES) described.push(`and ${issues.length - MAX_ISSUES} more`)
  return new ProtocolError(INVALID_PARAMS, `Invalid params for ${method}: ${described.join("; ")}`)
}
