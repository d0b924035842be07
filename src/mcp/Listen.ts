/**
 * A thin decorator over the stdio wire transport (no framing of its own): it
 * sees each `subscriptions/listen` request on its way in, before the SDK's
 * listen router acknowledges it, so the connection's session starts watching
 * those resources first (no change after the ack is missed), and sees the
 * `notifications/cancelled` that ends one. It also reports when the wire closes.
 * Everything else passes through untouched and in order.
 */
import type { JSONRPCMessage, MessageExtraInfo, Transport, TransportSendOptions } from "@modelcontextprotocol/server"

type Id = string | number

export interface ListenHooks {
  /** A listen stream opened for these resource URIs; the ack waits for the returned promise. */
  readonly listen: (id: Id, uris: ReadonlyArray<string>) => Promise<void>
  readonly cancel: (id: Id) => void
  readonly closed: () => void
}

const resourceUris = (params: unknown): ReadonlyArray<string> => {
  const notifications = (params as { notifications?: { resourceSubscriptions?: unknown } } | undefined)?.notifications
  const uris = notifications?.resourceSubscriptions
  return Array.isArray(uris) ? uris.filter((u): u is string => typeof u === "string") : []
}

export class ListenAwareTransport implements Transport {
  onclose?: (() => void) | undefined
  onerror?: ((error: Error) => void) | undefined
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined
  /** Messages wait behind a listen being set up, to keep their order. */
  private pending: Promise<void> | undefined

  private readonly inner: Transport
  private readonly hooks: ListenHooks

  constructor(inner: Transport, hooks: ListenHooks) {
    this.inner = inner
    this.hooks = hooks
  }

  get sessionId() {
    return this.inner.sessionId
  }

  setProtocolVersion = (version: string) => this.inner.setProtocolVersion?.(version)

  start(): Promise<void> {
    this.inner.onmessage = (message, extra) => this.inbound(message, extra)
    this.inner.onerror = (error) => this.onerror?.(error)
    this.inner.onclose = () => {
      this.hooks.closed()
      this.onclose?.()
    }
    return this.inner.start()
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, options)
  }

  close(): Promise<void> {
    return this.inner.close()
  }

  private inbound(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    const m = message as { method?: unknown; id?: unknown; params?: { requestId?: unknown } }
    let first: (() => Promise<void>) | undefined
    if (m.method === "subscriptions/listen" && (typeof m.id === "string" || typeof m.id === "number")) {
      const id = m.id
      const uris = resourceUris(m.params)
      if (uris.length > 0) first = () => this.hooks.listen(id, uris)
    } else if (m.method === "notifications/cancelled" && m.id === undefined) {
      const id = m.params?.requestId
      if (typeof id === "string" || typeof id === "number") {
        if (this.pending === undefined) this.hooks.cancel(id)
        else first = () => Promise.resolve(this.hooks.cancel(id))
      }
    }
    if (first === undefined && this.pending === undefined) {
      this.onmessage?.(message, extra)
      return
    }
    const next = (this.pending ?? Promise.resolve())
      .then(first)
      .catch(() => undefined)
      .then(() => {
        this.onmessage?.(message, extra)
        if (this.pending === next) this.pending = undefined
      })
    this.pending = next
  }
}
