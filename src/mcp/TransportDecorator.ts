/**
 * A Transport over another one that passes everything through: what a decorator of the
 * stdio wire (Listen.ts, StdioFastPath.ts) has in common. A subclass sees each inbound
 * message (`inbound`: it passes it on through `onmessage`, or keeps it) and the inner
 * transport's close (`closed`, before `onclose` is passed on); it may override `send`.
 */
import type { JSONRPCMessage, MessageExtraInfo, Transport, TransportSendOptions } from "@modelcontextprotocol/server"

export abstract class TransportDecorator implements Transport {
  onclose?: (() => void) | undefined
  onerror?: ((error: Error) => void) | undefined
  onmessage?: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined

  protected readonly inner: Transport

  constructor(inner: Transport) {
    this.inner = inner
  }

  get sessionId() {
    return this.inner.sessionId
  }

  setProtocolVersion = (version: string) => this.inner.setProtocolVersion?.(version)

  start(): Promise<void> {
    this.inner.onmessage = (message, extra) => this.inbound(message, extra)
    this.inner.onerror = (error) => this.onerror?.(error)
    this.inner.onclose = () => {
      this.closed()
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

  /** A message from the inner transport. */
  protected abstract inbound(message: JSONRPCMessage, extra?: MessageExtraInfo): void

  /** The inner transport closed; `onclose` is passed on after this. */
  protected abstract closed(): void
}
