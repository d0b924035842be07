/**
 * Small answers the HTTP transport writes itself (refusals, health, metrics), on Node's response.
 * Every answer says `Cache-Control: no-store`: none of them may be cached by a proxy.
 */
import type { ServerResponse } from "node:http"

export type Headers = Record<string, string>

/** Write a complete answer. */
export const send = (res: ServerResponse, status: number, type: string, body: string, headers: Headers = {}) => {
  res.writeHead(status, {
    "content-type": type,
    "content-length": String(Buffer.byteLength(body)),
    "cache-control": "no-store",
    ...headers
  })
  res.end(body)
}

export const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Headers = {}) =>
  send(res, status, "application/json", JSON.stringify(body), headers)

/** A JSON-RPC error with no request id, as the SDK's own HTTP refusals look. */
export const sendRpcError = (res: ServerResponse, status: number, message: string, headers: Headers = {}) =>
  sendJson(res, status, { jsonrpc: "2.0", error: { code: -32000, message }, id: null }, headers)

/** Write a web `Response` (a small one: the body is read whole). */
export const sendResponse = async (res: ServerResponse, response: Response): Promise<void> => {
  const body = await response.text()
  const headers: Headers = {}
  for (const [name, value] of response.headers) headers[name] = value
  send(res, response.status, headers["content-type"] ?? "application/json", body, headers)
}
