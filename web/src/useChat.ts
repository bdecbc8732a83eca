// Chat state and the socket that feeds it. Lives at the top of the app so the conversation
// survives switching to the knowledge page and back.
import { useCallback, useEffect, useRef, useState } from 'react'
import { ChatSocket, chatUrl, type ConnState, type ServerMsg, type Source } from './socket'

export type MsgState = 'waiting' | 'streaming' | 'done' | 'stopped' | 'interrupted' | 'error'

export interface Msg {
  id: number
  role: 'user' | 'assistant'
  content: string
  sources?: Source[]
  state?: MsgState
  error?: string
}

export interface Chat {
  messages: Msg[]
  conn: ConnState
  busy: boolean
  stopping: boolean
  notice: 'reconnected' | 'notConnected' | null
  send: (text: string) => boolean
  retry: () => void
  stop: () => void
  reset: () => void
  reconnectNow: () => void
}

let nextId = 1
const STOP_GRACE_MS = 5000

export function useChat(): Chat {
  const [messages, setMessages] = useState<Msg[]>([])
  const [conn, setConn] = useState<ConnState>({ kind: 'connecting', attempt: 0 })
  const [stopping, setStopping] = useState(false)
  const [notice, setNotice] = useState<Chat['notice']>(null)
  const sock = useRef<ChatSocket | null>(null)
  const msgsRef = useRef<Msg[]>([])
  msgsRef.current = messages
  // The assistant message that server messages go to; null when no answer is in flight.
  const current = useRef<number | null>(null)
  // After a reset is sent, late messages of the old answer are dropped until reset_ok.
  const resetting = useRef(false)
  // Stop was pressed for the answer in flight, so its `done` means "stopped".
  const stoppingRef = useRef(false)

  const patch = useCallback((id: number, f: (m: Msg) => Msg) => {
    setMessages((ms) => ms.map((m) => (m.id === id ? f(m) : m)))
  }, [])

  const finish = useCallback(
    (state: MsgState, error?: string) => {
      const id = current.current
      current.current = null
      stoppingRef.current = false
      setStopping(false)
      if (id != null) patch(id, (m) => ({ ...m, state, error }))
    },
    [patch],
  )

  const onMessage = useCallback(
    (m: ServerMsg) => {
      if (m.type === 'reset_ok') {
        resetting.current = false
        return
      }
      if (resetting.current) return
      const id = current.current
      switch (m.type) {
        case 'sources':
          if (id != null) patch(id, (x) => ({ ...x, sources: Array.isArray(m.items) ? m.items : [] }))
          break
        case 'delta':
          if (id != null && typeof m.content === 'string')
            patch(id, (x) => ({ ...x, content: x.content + m.content, state: 'streaming' }))
          break
        case 'done':
          if (id != null) {
            finish(stoppingRef.current ? 'stopped' : 'done')
          }
          break
        case 'error':
          if (id != null) finish('error', String(m.message ?? ''))
          else {
            const eid = nextId++
            setMessages((ms) => [...ms, { id: eid, role: 'assistant', content: '', state: 'error', error: String(m.message ?? '') }])
          }
          break
      }
    },
    [patch, finish],
  )

  useEffect(() => {
    const s = new ChatSocket(
      chatUrl(),
      (m) => onMessage(m),
      (st) => {
        setConn(st)
        if (st.kind === 'open') {
          resetting.current = false
          setNotice(st.reconnected ? 'reconnected' : null)
        }
      },
      () => {
        // The answer in flight is lost with the connection.
        if (current.current != null) finish('interrupted')
      },
    )
    sock.current = s
    s.start()
    return () => s.close()
  }, [onMessage, finish])

  const send = useCallback((text: string) => {
    const s = sock.current
    const content = text.trim()
    if (!content || current.current != null) return false
    if (!s || !s.send({ content })) {
      setNotice('notConnected')
      return false
    }
    setNotice(null)
    const uid = nextId++
    const aid = nextId++
    current.current = aid
    setMessages((ms) => [
      ...ms,
      { id: uid, role: 'user', content },
      { id: aid, role: 'assistant', content: '', state: 'waiting' },
    ])
    return true
  }, [])

  // Asks the last question again after a failed or interrupted answer, in place of that answer.
  const retry = useCallback(() => {
    const ms = msgsRef.current
    const last = ms[ms.length - 1]
    const q = ms[ms.length - 2]
    if (current.current != null || !last || last.role !== 'assistant' || !q || q.role !== 'user') return
    if (last.state !== 'error' && last.state !== 'interrupted') return
    if (!sock.current?.send({ content: q.content })) {
      setNotice('notConnected')
      return
    }
    setNotice(null)
    const aid = nextId++
    current.current = aid
    setMessages((cur) => [...cur.slice(0, -1), { id: aid, role: 'assistant', content: '', state: 'waiting' }])
  }, [])

  const stop = useCallback(() => {
    const id = current.current
    if (id == null) return
    stoppingRef.current = true
    setStopping(true)
    if (!sock.current?.send({ type: 'stop' })) finish('stopped')
    // A server that ignores stop (the seed's protocol has none) still ends the answer here;
    // its late deltas go nowhere.
    else
      window.setTimeout(() => {
        if (current.current === id) finish('stopped')
      }, STOP_GRACE_MS)
  }, [finish])

  const reset = useCallback(() => {
    const s = sock.current
    if (current.current != null) s?.send({ type: 'stop' })
    current.current = null
    setStopping(false)
    stoppingRef.current = false
    if (s?.send({ type: 'reset' })) resetting.current = true
    setMessages([])
    setNotice(null)
  }, [])

  const reconnectNow = useCallback(() => sock.current?.reconnectNow(), [])

  const busy = messages.some((m) => m.state === 'waiting' || m.state === 'streaming')
  return { messages, conn, busy, stopping, notice, send, retry, stop, reset, reconnectNow }
}
