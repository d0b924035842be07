/**
 * Ordered writes to stdout that respect backpressure: one `write` per message,
 * and no further write while the stream is over its high-water mark, so a slow
 * reader holds back the senders instead of growing an unbounded buffer.
 */
import type { Writable } from "node:stream"

interface Pending {
  readonly text: string
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

export class WireWriter {
  private queue: Array<Pending> = []
  private waitingForDrain = false
  /** The message whose write crossed the high-water mark: its sender waits for `drain`. */
  private crossed: Pending | undefined
  private unflushed = 0
  private failure: Error | undefined
  private flushWaiters: Array<() => void> = []

  private readonly output: Writable

  constructor(output: Writable) {
    this.output = output
  }

  /** Resolves once the text is written, or queued by the stream under its high-water mark. */
  write(text: string): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.queue.push({ text, resolve, reject })
      this.pump()
    })
  }

  /** Resolves when every accepted message has been handed to the OS (or the writer failed). */
  flushed(): Promise<void> {
    if (this.isFlushed()) return Promise.resolve()
    return new Promise((resolve) => this.flushWaiters.push(resolve))
  }

  /** Rejects everything queued and every later write with `error`. */
  fail(error: Error): void {
    if (this.failure !== undefined) return
    this.failure = error
    const queued = this.crossed === undefined ? this.queue : [this.crossed, ...this.queue]
    this.queue = []
    this.crossed = undefined
    for (const p of queued) p.reject(error)
    this.notifyFlushed()
  }

  private isFlushed(): boolean {
    return this.failure !== undefined || (this.queue.length === 0 && !this.waitingForDrain && this.unflushed === 0)
  }

  private pump(): void {
    while (!this.waitingForDrain && this.failure === undefined && this.queue.length > 0) {
      if (this.output.writableNeedDrain) {
        this.awaitDrain(undefined)
        return
      }
      const next = this.queue.shift()!
      this.unflushed++
      const belowMark = this.output.write(next.text, () => {
        this.unflushed--
        this.notifyFlushed()
      })
      if (belowMark) next.resolve()
      else this.awaitDrain(next)
    }
    this.notifyFlushed()
  }

  private awaitDrain(crossed: Pending | undefined): void {
    this.waitingForDrain = true
    this.crossed = crossed
    this.output.once("drain", () => {
      if (this.failure !== undefined) return
      this.waitingForDrain = false
      this.crossed = undefined
      crossed?.resolve()
      this.pump()
    })
  }

  private notifyFlushed(): void {
    if (!this.isFlushed()) return
    const waiters = this.flushWaiters
    this.flushWaiters = []
    for (const w of waiters) w()
  }
}
