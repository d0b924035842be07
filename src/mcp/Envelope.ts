/**
 * The error envelope: how a typed failure reaches the model. A tool failure is
 * a result with `isError: true`, no `structuredContent`, and one text block
 * `{"error":{"tag","message","retryable",…}}`; a resource or prompt failure is
 * a JSON-RPC error. Typed errors are mapped here and nowhere else.
 */
import { ProtocolError, ResourceNotFoundError } from "@modelcontextprotocol/server"
import type { AppError } from "../Errors.ts"

export interface ErrorEnvelope {
  readonly tag: string
  readonly message: string
  readonly retryable: boolean
  readonly [extra: string]: unknown
}

/** What a call produced, before it is put on the wire; a success carries its JSON text, encoded once. */
export type CallOutcome =
  | { readonly _tag: "Success"; readonly value: Record<string, unknown>; readonly json: string }
  | { readonly _tag: "Failure"; readonly error: ErrorEnvelope }

/** The error envelope of a typed error: tag, message, retryable, and the error's own fields. */
export const envelope = (error: AppError): ErrorEnvelope => {
  const { _tag, message, ...fields } = error as unknown as Record<string, unknown> & { _tag: string; message: string }
  return { tag: _tag, message, retryable: error.retryable, ...fields }
}

export const defect: ErrorEnvelope = {
  tag: "Internal",
  message:
    "The server hit an internal error running this tool. Retry once; if it persists, report it with the server's stderr log.",
  retryable: false
}

export const cancelled: ErrorEnvelope = {
  tag: "Cancelled",
  message: "The call was cancelled before it finished.",
  retryable: true
}

export interface ToolResult {
  readonly [key: string]: unknown
  readonly content: Array<{ readonly type: "text"; readonly text: string }>
  readonly structuredContent?: Record<string, unknown>
  readonly isError?: boolean
}

/** A `tools/call` result: structuredContent plus the same JSON as text, or the error envelope. */
export const toResult = (outcome: CallOutcome): ToolResult =>
  outcome._tag === "Success"
    ? { content: [{ type: "text", text: outcome.json }], structuredContent: outcome.value }
    : failure(outcome.error)

/** The text block of a failed call: `{"error":{…}}`. */
export const failureText = (error: ErrorEnvelope): string => JSON.stringify({ error })

export const failure = (error: ErrorEnvelope): ToolResult => ({
  isError: true,
  content: [{ type: "text", text: failureText(error) }]
})

export const INVALID_PARAMS = -32602
export const INVALID_REQUEST = -32600
export const INTERNAL_ERROR = -32603

/** A call of a tool the session does not have: a JSON-RPC error (-32602), never a tool result. */
export class UnknownToolError extends ProtocolError {}

export const unknownTool = (name: string): UnknownToolError =>
  new UnknownToolError(INVALID_PARAMS, `Unknown tool: ${name}. Call tools/list to see the tools this server offers.`)

/**
 * A typed failure of a resource read or prompt as a JSON-RPC error. A missing
 * resource is -32602 with `data: {uri}` (the 2026-07-28 spec's code, which the
 * SDK uses on every revision; clients also accept the older -32002); bad input
 * and a role's refusal are -32602, anything else -32603.
 */
export const toProtocolError = (error: AppError, uri?: string): ProtocolError =>
  error._tag === "NotFound" && uri !== undefined
    ? new ResourceNotFoundError(uri, error.message)
    : new ProtocolError(
        error._tag === "InvalidArgument" || error._tag === "PermissionDenied" ? INVALID_PARAMS : INTERNAL_ERROR,
        error.message
      )
