// Entry: header (navigation, connection state, language, theme) and the two pages, routed by path
// (ragd serves index.html for unknown non-API paths, so /knowledge can be reloaded).
import { StrictMode, useCallback, useEffect, useMemo, useState, type MouseEvent } from 'react'
import { createRoot } from 'react-dom/client'
import { ChatPage } from './ChatPage'
import { KnowledgePage } from './KnowledgePage'
import { LangContext, STRINGS, initialLang, type Lang } from './i18n'
import { useChat } from './useChat'
import { health as fetchHealth, type Health } from './api'
import './styles.css'

type Page = 'chat' | 'knowledge'
type Theme = 'system' | 'light' | 'dark'

function pageFromPath(p: string): Page {
  return /^\/knowledge\/?$/.test(p) ? 'knowledge' : 'chat'
}

function load<T extends string>(key: string, ok: readonly T[], dflt: T): T {
  try {
    const v = localStorage.getItem(key)
    if (v && (ok as readonly string[]).includes(v)) return v as T
  } catch {
    /* storage may be blocked */
  }
  return dflt
}

function save(key: string, v: string) {
  try {
    localStorage.setItem(key, v)
  } catch {
    /* ignore */
  }
}

const THEMES = ['system', 'light', 'dark'] as const

function ThemeIcon({ theme }: { theme: Theme }) {
  const common = { width: 18, height: 18, viewBox: '0 0 24 24', 'aria-hidden': true, fill: 'none', stroke: 'currentColor', strokeWidth: 1.8, strokeLinecap: 'round' as const }
  if (theme === 'light')
    return (
      <svg {...common}>
        <circle cx="12" cy="12" r="4" />
        <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
      </svg>
    )
  if (theme === 'dark')
    return (
      <svg {...common}>
        <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />
      </svg>
    )
  return (
    <svg {...common}>
      <rect x="3" y="4" width="18" height="13" rx="2" />
      <path d="M8 21h8M12 17v4" />
    </svg>
  )
}

function App() {
  const [page, setPage] = useState<Page>(() => pageFromPath(location.pathname))
  const [lang, setLang] = useState<Lang>(initialLang)
  const [theme, setTheme] = useState<Theme>(() => load('ragd.theme', THEMES, 'system'))
  const chat = useChat()
  const t = STRINGS[lang]
  const [health, setHealth] = useState<Health | null>(null)
  const [seenKnowledge, setSeenKnowledge] = useState(page === 'knowledge')
  useEffect(() => {
    if (page === 'knowledge') setSeenKnowledge(true)
  }, [page])
  const finished = chat.messages.filter((m) => m.role === 'assistant' && m.state !== 'waiting' && m.state !== 'streaming').length

  // Server health (LLM reachable, store, embedder): checked when the socket (re)opens, when the
  // chat page is shown and after each answer ends, so a banner can say what is wrong (or no longer).
  useEffect(() => {
    if (chat.conn.kind !== 'open' || page !== 'chat') return
    let live = true
    void fetchHealth().then((h) => live && setHealth(h))
    return () => {
      live = false
    }
  }, [chat.conn.kind, page, finished])

  useEffect(() => {
    const onPop = () => setPage(pageFromPath(location.pathname))
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])

  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en'
    document.title = `${page === 'chat' ? t.navChat : t.kTitle} · ${t.appTitle}`
  }, [lang, page, t])

  useEffect(() => {
    const root = document.documentElement
    if (theme === 'system') root.removeAttribute('data-theme')
    else root.setAttribute('data-theme', theme)
  }, [theme])

  const go = useCallback((p: Page) => (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return
    e.preventDefault()
    if (p !== pageFromPath(location.pathname)) history.pushState(null, '', p === 'chat' ? '/' : '/knowledge')
    setPage(p)
  }, [])

  const ctx = useMemo(() => ({ lang, t }), [lang, t])
  const nextTheme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length]
  const themeName = { system: t.themeSystem, light: t.themeLight, dark: t.themeDark }
  const connKind = chat.conn.kind

  return (
    <LangContext.Provider value={ctx}>
      <a href="#main" className="skip">
        {page === 'chat' ? t.inputLabel : t.kTitle}
      </a>
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true" />
          <span className="brand-name">{t.appTitle}</span>
        </div>
        <nav aria-label={t.appTitle}>
          <a href="/" className={page === 'chat' ? 'active' : ''} aria-current={page === 'chat' ? 'page' : undefined} onClick={go('chat')}>
            {t.navChat}
          </a>
          <a href="/knowledge" className={page === 'knowledge' ? 'active' : ''} aria-current={page === 'knowledge' ? 'page' : undefined} onClick={go('knowledge')}>
            {t.navKnowledge}
          </a>
        </nav>
        <div className="tools">
          <span className={'conn ' + connKind} role="status" title={connKind === 'open' ? t.connOpen : connKind === 'connecting' ? t.connConnecting : t.connReconnecting(0)}>
            <span className="dot" aria-hidden="true" />
            <span className="conn-text">{connKind === 'open' ? t.connOpen : t.connConnecting}</span>
          </span>
          <label className="lang">
            <span className="sr-only">{t.language}</span>
            <select
              value={lang}
              onChange={(e) => {
                const l = e.target.value as Lang
                setLang(l)
                save('ragd.lang', l)
              }}
            >
              <option value="zh">中文</option>
              <option value="en">English</option>
            </select>
          </label>
          <button
            type="button"
            className="icon-btn"
            onClick={() => {
              setTheme(nextTheme)
              save('ragd.theme', nextTheme)
            }}
            aria-label={`${t.themeToggle}: ${themeName[theme]}`}
            title={`${themeName[theme]} → ${themeName[nextTheme]}`}
          >
            <ThemeIcon theme={theme} />
          </button>
        </div>
      </header>
      <main id="main" className={'page-' + page}>
        {/* Both pages stay mounted once seen, so uploads in flight, search results and the
            conversation survive switching pages. */}
        <ChatPage chat={chat} health={health} visible={page === 'chat'} />
        {seenKnowledge && <KnowledgePage visible={page === 'knowledge'} />}
      </main>
    </LangContext.Provider>
  )
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
