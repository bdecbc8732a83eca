// The chat page: streamed Markdown answers with their sources, Stop, New conversation,
// connection state and inline errors.
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from 'react'
import { renderMarkdown } from './markdown'
import { useT } from './i18n'
import type { Chat, Msg } from './useChat'
import type { Source } from './socket'
import type { Health } from './api'

function snippet(text: string | undefined, n = 160): string {
  const s = (text ?? '').replace(/\s+/g, ' ').trim()
  return s.length > n ? s.slice(0, n) + '…' : s
}

function fmtScore(s: number | undefined): string {
  return typeof s === 'number' && Number.isFinite(s) ? s.toFixed(3) : '–'
}

// Sources of one answer: collapsed list, each item expandable to its full chunk text.
function Sources({ items }: { items: Source[] }) {
  const t = useT()
  return (
    <details className="sources">
      <summary>
        <span>{t.sources(items.length)}</span>
        <span className="src-list">{[...new Set(items.map((s) => s.source || '?'))].join(' · ')}</span>
      </summary>
      <ol>
        {items.map((s, i) => (
          <li key={i}>
            <details className="source">
              <summary>
                <span className="src-name">{s.source || '?'}</span>
                <span className="src-score" title={t.score}>
                  {t.score} {fmtScore(s.score)}
                </span>
                <span className="src-snippet">{snippet(s.text)}</span>
              </summary>
              <div className="src-text">
                {s.chunk_id != null && (
                  <div className="src-meta">
                    {t.chunk} #{String(s.chunk_id)}
                  </div>
                )}
                {s.text}
              </div>
            </details>
          </li>
        ))}
      </ol>
    </details>
  )
}

// Copies text to the clipboard; falls back to a selection copy where the Clipboard API is
// unavailable (plain http on a LAN address is not a secure context).
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    const ta = document.createElement('textarea')
    ta.value = text
    ta.style.position = 'fixed'
    ta.style.opacity = '0'
    document.body.appendChild(ta)
    ta.select()
    const ok = document.execCommand('copy')
    ta.remove()
    return ok
  }
}

const Markdown = memo(function Markdown({ src, copyLabel, copiedLabel }: { src: string; copyLabel: string; copiedLabel: string }) {
  const html = useMemo(() => renderMarkdown(src), [src])
  const ref = useRef<HTMLDivElement>(null)
  // A copy button on each code block, added after React sets the sanitised HTML (our own
  // element, so the sanitiser can keep forbidding buttons from the model).
  useLayoutEffect(() => {
    ref.current?.querySelectorAll('pre').forEach((pre) => {
      if (pre.querySelector(':scope > button.copy')) return
      const b = document.createElement('button')
      b.type = 'button'
      b.className = 'copy'
      b.textContent = copyLabel
      b.addEventListener('click', () => {
        void copyText(pre.querySelector('code')?.textContent ?? pre.textContent ?? '').then((ok) => {
          if (!ok) return
          b.textContent = copiedLabel
          window.setTimeout(() => (b.textContent = copyLabel), 1500)
        })
      })
      pre.appendChild(b)
    })
  }, [html, copyLabel, copiedLabel])
  return <div className="md" ref={ref} dangerouslySetInnerHTML={{ __html: html }} />
})

function Message({ m, onRetry }: { m: Msg; onRetry?: () => void }) {
  const t = useT()
  if (m.role === 'user')
    return (
      <article className="msg user" aria-label={t.you}>
        <div className="bubble">{m.content}</div>
      </article>
    )
  return (
    <article className="msg assistant" aria-label={t.assistant} data-state={m.state}>
      <div className="avatar" aria-hidden="true">
        AI
      </div>
      <div className="body">
        {m.state === 'waiting' && !m.content ? (
          <div className="typing" aria-label={t.thinking}>
            <span />
            <span />
            <span />
          </div>
        ) : (
          m.content && <Markdown src={m.content} copyLabel={t.copy} copiedLabel={t.copied} />
        )}
        {m.state === 'streaming' && <span className="cursor" aria-hidden="true" />}
        {m.state === 'stopped' && <div className="tag">{t.stopped}</div>}
        {m.state === 'interrupted' && <div className="inline-error">{t.interrupted}</div>}
        {m.state === 'error' && (
          <div className="inline-error" role="alert">
            {t.errorPrefix}: {m.error || '?'}
          </div>
        )}
        {onRetry && (
          <button type="button" className="btn small retry" onClick={onRetry}>
            {t.retry}
          </button>
        )}
        {m.sources && m.sources.length > 0 && <Sources items={m.sources} />}
        {m.sources && m.sources.length === 0 && m.state === 'done' && <div className="no-sources">{t.noSources}</div>}
      </div>
    </article>
  )
}

function ConnBanner({ chat }: { chat: Chat }) {
  const t = useT()
  const [, setTick] = useState(0)
  const c = chat.conn
  // Re-render a few times a second while counting down to the next attempt.
  useEffect(() => {
    if (c.kind !== 'waiting') return
    const iv = window.setInterval(() => setTick((n) => n + 1), 250)
    return () => window.clearInterval(iv)
  }, [c])
  const now = Date.now()
  if (c.kind === 'waiting')
    return (
      <div className="banner warn" role="status">
        <span>{t.connReconnecting(Math.max(0, Math.ceil((c.retryAt - now) / 1000)))}</span>
        <button type="button" className="link" onClick={chat.reconnectNow}>
          {t.connReconnectNow}
        </button>
      </div>
    )
  if (c.kind === 'connecting' && c.attempt > 0)
    return (
      <div className="banner warn" role="status">
        <span>{t.connReconnectingNow}</span>
      </div>
    )
  if (chat.notice === 'reconnected')
    return (
      <div className="banner ok" role="status">
        {t.connRestored}
      </div>
    )
  if (chat.notice === 'notConnected')
    return (
      <div className="banner warn" role="status">
        {t.notConnected}
      </div>
    )
  return null
}

export function ChatPage({ chat, health, visible }: { chat: Chat; health: Health | null; visible: boolean }) {
  const t = useT()
  const [input, setInput] = useState('')
  const logRef = useRef<HTMLDivElement>(null)
  const inputRef = useRef<HTMLTextAreaElement>(null)
  const stick = useRef(true)

  // Follow the stream while the reader is at the bottom; leave them alone if they scrolled up.
  useEffect(() => {
    const el = logRef.current
    if (el && stick.current) el.scrollTop = el.scrollHeight
  }, [chat.messages])
  // A banner appearing (or the window shrinking) makes the list shorter: stay at the bottom.
  useEffect(() => {
    const el = logRef.current
    if (!el || typeof ResizeObserver === 'undefined') return
    const ro = new ResizeObserver(() => {
      if (stick.current) el.scrollTop = el.scrollHeight
    })
    ro.observe(el)
    return () => ro.disconnect()
  }, [])

  useEffect(() => {
    if (visible) inputRef.current?.focus()
  }, [visible])

  const submit = (e?: FormEvent) => {
    e?.preventDefault()
    if (chat.busy) return
    if (chat.send(input)) {
      setInput('')
      stick.current = true
    }
  }

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Escape' && chat.busy) {
      e.preventDefault()
      chat.stop()
      return
    }
    // Enter sends; Shift+Enter is a new line; Enter that ends an IME composition (Chinese input) is not a send.
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing && e.keyCode !== 229) {
      e.preventDefault()
      submit()
    }
  }

  return (
    <section className="chat" aria-labelledby="chat-h" hidden={!visible}>
      <h1 id="chat-h" className="sr-only">
        {t.navChat}
      </h1>
      <ConnBanner chat={chat} />
      {health && health.llm && !health.llm.ok && (
        <div className="banner warn" role="status">
          {t.llmDown(health.llm.error ?? '')}
        </div>
      )}
      {health && (health.store?.ok === false || health.embedder?.ok === false) && (
        <div className="banner warn" role="status">
          {t.storeDown(health.store?.error ?? health.embedder?.error ?? '')}
        </div>
      )}
      <div
        className="log"
        ref={logRef}
        role="log"
        aria-live="polite"
        aria-busy={chat.busy}
        aria-label={t.navChat}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48
        }}
      >
        {chat.messages.length === 0 ? (
          <div className="empty">
            <h2>{t.chatEmptyTitle}</h2>
            <p>{t.chatEmptyHint}</p>
            {health?.llm?.ok && health.llm.model && (
              <p className="model-info">{t.modelInfo(health.llm.model, health.store?.documents ?? 0, health.store?.chunks ?? 0)}</p>
            )}
          </div>
        ) : (
          chat.messages.map((m, i) => (
            <Message
              key={m.id}
              m={m}
              onRetry={
                i === chat.messages.length - 1 && (m.state === 'error' || m.state === 'interrupted') && chat.conn.kind === 'open'
                  ? chat.retry
                  : undefined
              }
            />
          ))
        )}
      </div>
      <form className="composer" onSubmit={submit}>
        <label htmlFor="chat-input" className="sr-only">
          {t.inputLabel}
        </label>
        <textarea
          id="chat-input"
          ref={inputRef}
          value={input}
          rows={1}
          placeholder={t.inputPlaceholder}
          onChange={(e) => setInput(e.target.value)}
          onKeyDown={onKey}
        />
        <div className="actions">
          {chat.busy ? (
            <button key="stop" type="button" className="btn danger" onClick={chat.stop} disabled={chat.stopping} title={t.stopHint}>
              <span aria-hidden="true">■</span> {t.stop}
            </button>
          ) : (
            <button key="send" type="submit" className="btn primary" disabled={!input.trim()}>
              {t.send}
            </button>
          )}
          <button
            type="button"
            className="btn"
            onClick={() => {
              chat.reset()
              inputRef.current?.focus()
            }}
            disabled={chat.messages.length === 0 && !chat.busy}
          >
            {t.newChat}
          </button>
        </div>
      </form>
    </section>
  )
}
