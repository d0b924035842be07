/**
 * Newline framing for the stdio wire with a hard bound on memory: at most
 * `maxLineBytes` of an unfinished line are ever held. A longer line is skipped
 * up to its newline while the rest of it streams in, and reported by its size
 * instead of its content.
 */

export interface LineSink {
  /** One complete line, without its `\n` (a trailing `\r` is left to the reader). */
  readonly line: (bytes: Buffer) => void
  /** A line longer than the limit was skipped; `bytes` is its length without the `\n`. */
  readonly oversized: (bytes: number) => void
}

const NEWLINE = 0x0a

export class LineFramer {
  private parts: Array<Buffer> = []
  private held = 0
  private skipping = false
  private skipped = 0
  private stopped = false
  private readonly maxLineBytes: number
  private readonly sink: LineSink

  constructor(maxLineBytes: number, sink: LineSink) {
    this.maxLineBytes = maxLineBytes
    this.sink = sink
  }

  /** Bytes of the unfinished line held right now; never more than `maxLineBytes`. */
  get bufferedBytes(): number {
    return this.held
  }

  push(chunk: Buffer): void {
    let start = 0
    while (!this.stopped && start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start)
      if (newline === -1) {
        // Copy a tail slice so a small remainder does not keep the whole chunk alive.
        this.take(chunk, start, chunk.length, start > 0)
        return
      }
      this.take(chunk, start, newline, false)
      this.finishLine()
      start = newline + 1
    }
  }

  /** End of input: an unterminated last line still counts as a line. */
  end(): void {
    if (!this.stopped && (this.held > 0 || this.skipping)) this.finishLine()
    this.stop()
  }

  /** Drops whatever is held and ignores any further input. */
  stop(): void {
    this.stopped = true
    this.parts = []
    this.held = 0
  }

  private take(chunk: Buffer, start: number, end: number, copy: boolean): void {
    const n = end - start
    if (n === 0) return
    if (this.skipping) {
      this.skipped += n
      return
    }
    if (this.held + n > this.maxLineBytes) {
      this.skipping = true
      this.skipped = this.held + n
      this.parts = []
      this.held = 0
      return
    }
    const part = chunk.subarray(start, end)
    this.parts.push(copy ? Buffer.from(part) : part)
    this.held += n
  }

  private finishLine(): void {
    if (this.skipping) {
      const bytes = this.skipped
      this.skipping = false
      this.skipped = 0
      this.sink.oversized(bytes)
      return
    }
    const parts = this.parts
    const held = this.held
    this.parts = []
    this.held = 0
    this.sink.line(parts.length === 1 ? parts[0]! : Buffer.concat(parts, held))
  }
}
