// The chat WebSocket: URL from the page's own location (works behind a reverse proxy),
// JSON messages of SPEC §3, and reconnection with exponential backoff and jitter.

export interface Source {
  source: string
  chunk_id?: number | string
  score?: number
  text?: string
}

export type ServerMsg =
  | { type: 'sources'; items: Source[] }
  | { type: 'delta'; content: string }
  | { type: 'done' }
  | { type: 'reset_ok' }
  | { type: 'error'; message: string }

export type ConnState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open'; reconnected: boolean }
  | { kind: 'waiting'; retryAt: number; attempt: number }

// ws:// or wss:// on the same host and port as the page.
export function chatUrl(loc: Location = window.location): string {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:'
  return `${proto}//${loc.host}/api/v1/ws/chat`
}

const BACKOFF_MIN_MS = 500
const BACKOFF_MAX_MS = 15000

export class ChatSocket {
  private ws: WebSocket | null = null
  private attempt = 0
  private timer: number | undefined
  private everOpened = false
  private closedByUser = false

  constructor(
    private readonly url: string,
    private readonly onMessage: (m: ServerMsg) => void,
    private readonly onState: (s: ConnState) => void,
    private readonly onDrop: () => void,
  ) {}

  start(): void {
    this.closedByUser = false
    this.connect()
  }

  // Close for good (component unmount).
  close(): void {
    this.closedByUser = true
    window.clearTimeout(this.timer)
    if (this.ws) {
      this.ws.onclose = null
      this.ws.close()
      this.ws = null
    }
  }

  // Skip the remaining backoff wait.
  reconnectNow(): void {
    if (this.ws) return
    window.clearTimeout(this.timer)
    this.connect()
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  send(obj: object): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false
    this.ws.send(JSON.stringify(obj))
    return true
  }

  private connect(): void {
    this.onState({ kind: 'connecting', attempt: this.attempt })
    let ws: WebSocket
    try {
      ws = new WebSocket(this.url)
    } catch {
      this.scheduleRetry()
      return
    }
    this.ws = ws
    ws.onopen = () => {
      const reconnected = this.everOpened
      this.everOpened = true
      this.attempt = 0
      this.onState({ kind: 'open', reconnected })
    }
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return
      let m: unknown
      try {
        m = JSON.parse(ev.data)
      } catch {
        return // not ours; ignore rather than break the page
      }
      if (m && typeof m === 'object' && typeof (m as { type?: unknown }).type === 'string')
        this.onMessage(m as ServerMsg)
    }
    ws.onclose = () => {
      this.ws = null
      if (this.closedByUser) return
      this.onDrop()
      this.scheduleRetry()
    }
    // onerror is always followed by onclose, which does the work.
  }

  private scheduleRetry(): void {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt)
    const delay = Math.round(base / 2 + Math.random() * (base / 2))
    this.attempt++
    this.onState({ kind: 'waiting', retryAt: Date.now() + delay, attempt: this.attempt })
    this.timer = window.setTimeout(() => this.connect(), delay)
  }
}
