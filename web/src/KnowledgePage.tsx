// The knowledge page: upload files (drag and drop, several at once, progress per file), paste text,
// list and delete documents, and try retrieval.
import { Fragment, useCallback, useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react'
import { addDocument, deleteDocument, listDocuments, search, uploadFile, type Doc, type Hit } from './api'
import { useLang, useT } from './i18n'

interface Upload {
  key: number
  name: string
  size: number
  progress: number // 0..1 of bytes sent
  phase: 'queued' | 'uploading' | 'processing' | 'done' | 'error'
  chunks?: number
  duplicate?: boolean
  error?: string
}

const ACCEPT = '.txt,.text,.md,.markdown,.html,.htm,.pdf,text/plain,text/markdown,text/html,application/pdf'
const SUPPORTED = /\.(txt|text|md|markdown|html?|pdf)$/i
const PARALLEL_UPLOADS = 2
let uploadKey = 1

function fmtSize(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}

// created_at may be an ISO/SQL timestamp or Unix seconds.
function fmtDate(v: Doc['created_at'], lang: string): string {
  if (v == null || v === '') return '–'
  let d: Date
  if (typeof v === 'number') d = new Date(v < 1e12 ? v * 1000 : v)
  else {
    const s = /^\d{4}-\d\d-\d\d \d/.test(v) ? v.replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? '' : 'Z') : v
    d = new Date(s)
  }
  if (Number.isNaN(d.getTime())) return String(v)
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en', { dateStyle: 'medium', timeStyle: 'short' }).format(d)
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

function UploadBox({ onAdded }: { onAdded: () => void }) {
  const t = useT()
  const [uploads, setUploads] = useState<Upload[]>([])
  const [over, setOver] = useState(false)
  const fileRef = useRef<HTMLInputElement>(null)
  const queue = useRef<{ key: number; file: File }[]>([])
  const running = useRef(0)

  const patch = (key: number, p: Partial<Upload>) => setUploads((us) => us.map((u) => (u.key === key ? { ...u, ...p } : u)))

  // Start queued uploads up to the parallel limit; each one refreshes the list when it lands.
  const pump = useCallback(() => {
    while (running.current < PARALLEL_UPLOADS && queue.current.length) {
      const { key, file } = queue.current.shift()!
      running.current++
      patch(key, { phase: 'uploading' })
      uploadFile(file, (f) => patch(key, { progress: f, phase: f >= 1 ? 'processing' : 'uploading' }))
        .then((r) => {
          patch(key, { phase: 'done', progress: 1, chunks: r.chunks, duplicate: !!r.duplicate })
          onAdded()
        })
        .catch((e) => patch(key, { phase: 'error', error: errText(e) }))
        .finally(() => {
          running.current--
          pump()
        })
    }
  }, [onAdded])

  const addFiles = (files: FileList | File[] | null) => {
    if (!files) return
    const list = Array.from(files)
    if (!list.length) return
    // Types the server cannot read are refused here, without sending them.
    const items: Upload[] = list.map((f) =>
      SUPPORTED.test(f.name)
        ? { key: uploadKey++, name: f.name, size: f.size, progress: 0, phase: 'queued' }
        : { key: uploadKey++, name: f.name, size: f.size, progress: 0, phase: 'error', error: t.kUnsupported },
    )
    list.forEach((file, i) => items[i].phase === 'queued' && queue.current.push({ key: items[i].key, file }))
    setUploads((us) => [...us, ...items])
    pump()
  }

  const onDrop = (e: DragEvent) => {
    e.preventDefault()
    setOver(false)
    addFiles(e.dataTransfer.files)
  }

  const finished = uploads.some((u) => u.phase === 'done' || u.phase === 'error')

  return (
    <section className="card" aria-labelledby="up-h">
      <h2 id="up-h">{t.kUploadTitle}</h2>
      <div
        className={'drop' + (over ? ' over' : '')}
        onDragEnter={(e) => {
          e.preventDefault()
          setOver(true)
        }}
        onDragOver={(e) => {
          e.preventDefault()
          e.dataTransfer.dropEffect = 'copy'
        }}
        onDragLeave={(e) => {
          if (e.currentTarget === e.target) setOver(false)
        }}
        onDrop={onDrop}
      >
        <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">
          <path d="M12 16V4m0 0-5 5m5-5 5 5M4 17v2a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-2" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
        </svg>
        <p>
          {over ? (
            t.kDropActive
          ) : (
            <>
              {t.kDropHint}{' '}
              <button type="button" className="link" onClick={() => fileRef.current?.click()}>
                {t.kChoose}
              </button>
            </>
          )}
        </p>
        <input
          ref={fileRef}
          id="file-input"
          type="file"
          multiple
          accept={ACCEPT}
          className="sr-only"
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            addFiles(e.target.files)
            e.target.value = ''
          }}
        />
      </div>
      {uploads.length > 0 && (
        <ul className="uploads" aria-live="polite">
          {uploads.map((u) => (
            <li key={u.key} className={'upload ' + u.phase} data-name={u.name}>
              <div className="up-row">
                <span className="up-name" title={u.name}>
                  {u.name}
                </span>
                <span className="up-size">{fmtSize(u.size)}</span>
                <span className="up-status">
                  {u.phase === 'queued' || u.phase === 'uploading'
                    ? t.kUploading(Math.round(u.progress * 100))
                    : u.phase === 'processing'
                      ? t.kProcessing
                      : u.phase === 'done'
                        ? u.duplicate
                          ? t.kDuplicate
                          : t.kDone(u.chunks ?? 0)
                        : `${t.errorPrefix}: ${u.error}`}
                </span>
              </div>
              {u.phase === 'processing' ? (
                <progress aria-label={u.name} />
              ) : (
                <progress aria-label={u.name} max={1} value={u.phase === 'error' ? 0 : u.progress} />
              )}
            </li>
          ))}
        </ul>
      )}
      {finished && (
        <button type="button" className="btn small" onClick={() => setUploads((us) => us.filter((u) => u.phase !== 'done' && u.phase !== 'error'))}>
          {t.kClear}
        </button>
      )}
    </section>
  )
}

function PasteBox({ onAdded }: { onAdded: () => void }) {
  const t = useT()
  const [source, setSource] = useState('')
  const [content, setContent] = useState('')
  const [busy, setBusy] = useState(false)
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!source.trim() || !content.trim()) {
      setMsg({ ok: false, text: t.kNeedBoth })
      return
    }
    setBusy(true)
    setMsg(null)
    try {
      const r = await addDocument(source.trim(), content)
      setMsg({ ok: true, text: r.duplicate ? t.kDuplicate : t.kAdded(r.chunks ?? 0) })
      setSource('')
      setContent('')
      onAdded()
    } catch (err) {
      setMsg({ ok: false, text: `${t.errorPrefix}: ${errText(err)}` })
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="card" aria-labelledby="paste-h">
      <h2 id="paste-h">{t.kPasteTitle}</h2>
      <form onSubmit={submit} className="stack">
        <label>
          <span>{t.kSource}</span>
          <input value={source} onChange={(e) => setSource(e.target.value)} placeholder={t.kSourcePlaceholder} maxLength={255} />
        </label>
        <label>
          <span>{t.kContent}</span>
          <textarea value={content} onChange={(e) => setContent(e.target.value)} placeholder={t.kContentPlaceholder} rows={6} />
        </label>
        <div className="row">
          <button type="submit" className="btn primary" disabled={busy}>
            {busy ? t.kAdding : t.kAdd}
          </button>
          {msg && (
            <span className={msg.ok ? 'ok-text' : 'inline-error'} role="status">
              {msg.text}
            </span>
          )}
        </div>
      </form>
    </section>
  )
}

function DocList({ docs, loading, error, reload }: { docs: Doc[]; loading: boolean; error: string | null; reload: () => void }) {
  const t = useT()
  const lang = useLang()
  const [confirming, setConfirming] = useState<Doc['id'] | null>(null)
  const [deleting, setDeleting] = useState(false)
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null)

  const doDelete = async (d: Doc) => {
    setDeleting(true)
    try {
      await deleteDocument(d.id)
      setMsg({ ok: true, text: t.kDeleted(d.source) })
      setConfirming(null)
      reload()
    } catch (e) {
      setMsg({ ok: false, text: `${t.errorPrefix}: ${errText(e)}` })
    } finally {
      setDeleting(false)
    }
  }

  return (
    <section className="card wide" aria-labelledby="docs-h">
      <div className="card-head">
        <h2 id="docs-h">
          {t.kDocsTitle} <span className="count">{t.kDocCount(docs.length)}</span>
        </h2>
        <button type="button" className="btn small" onClick={reload} disabled={loading}>
          {t.kRefresh}
        </button>
      </div>
      {msg && (
        <p className={msg.ok ? 'ok-text' : 'inline-error'} role="status">
          {msg.text}
        </p>
      )}
      {error && <p className="inline-error">{`${t.errorPrefix}: ${error}`}</p>}
      {loading && docs.length === 0 ? (
        <p className="muted">{t.kLoading}</p>
      ) : docs.length === 0 ? (
        !error && <p className="muted">{t.kNoDocs}</p>
      ) : (
        <div className="table-wrap">
          <table className="docs">
            <thead>
              <tr>
                <th scope="col">{t.kColSource}</th>
                <th scope="col" className="num">
                  {t.kColChunks}
                </th>
                <th scope="col" className="date">
                  {t.kColDate}
                </th>
                <th scope="col" className="act">
                  <span className="sr-only">{t.kColActions}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {docs.map((d) => (
                <Fragment key={String(d.id)}>
                  <tr data-doc={d.source} className={confirming === d.id ? 'confirming' : undefined}>
                    <td className="doc-name" title={d.source}>
                      {d.source}
                    </td>
                    <td className="num">{d.chunks}</td>
                    <td className="date">{fmtDate(d.created_at, lang)}</td>
                    <td className="act">
                      <button
                        type="button"
                        className="btn small"
                        onClick={() => setConfirming(confirming === d.id ? null : d.id)}
                        aria-expanded={confirming === d.id}
                        aria-label={`${t.kDelete} ${d.source}`}
                      >
                        {t.kDelete}
                      </button>
                    </td>
                  </tr>
                  {confirming === d.id && (
                    <tr className="confirm-row">
                      <td colSpan={4}>
                        <div className="confirm" role="group" aria-label={t.kConfirmDelete(d.source)}>
                          <span>{t.kConfirmDelete(d.source)}</span>
                          <button type="button" className="btn small danger" disabled={deleting} onClick={() => doDelete(d)} autoFocus>
                            {t.kConfirm}
                          </button>
                          <button type="button" className="btn small" onClick={() => setConfirming(null)}>
                            {t.kCancel}
                          </button>
                        </div>
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}

function SearchBox() {
  const t = useT()
  const [q, setQ] = useState('')
  const [k, setK] = useState(3)
  const [hits, setHits] = useState<Hit[] | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!q.trim()) return
    setBusy(true)
    setError(null)
    try {
      setHits(await search(q.trim(), k))
    } catch (err) {
      setError(errText(err))
      setHits(null)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section className="card wide" aria-labelledby="search-h">
      <h2 id="search-h">{t.kSearchTitle}</h2>
      <form onSubmit={submit} className="search-row">
        <label className="grow">
          <span className="sr-only">{t.kQuery}</span>
          <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder={t.kQueryPlaceholder} />
        </label>
        <label className="topk">
          <span>{t.kTopK}</span>
          <select value={k} onChange={(e) => setK(Number(e.target.value))}>
            {[1, 3, 5, 10, 20].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="btn primary" disabled={busy || !q.trim()}>
          {t.kSearch}
        </button>
      </form>
      {error && <p className="inline-error">{`${t.errorPrefix}: ${error}`}</p>}
      {hits && (
        <ol className="hits" aria-live="polite">
          {hits.length === 0 && <li className="muted">{t.kNoHits}</li>}
          {hits.map((h, i) => (
            <li key={i} className="hit">
              <div className="hit-head">
                <span className="src-name">{h.source}</span>
                {h.chunk_id != null && <span className="muted">#{String(h.chunk_id)}</span>}
                <span className="src-score">
                  {t.score} {typeof h.score === 'number' ? h.score.toFixed(3) : '–'}
                </span>
              </div>
              <p className="hit-text">{h.text}</p>
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}

export function KnowledgePage({ visible }: { visible: boolean }) {
  const t = useT()
  const [docs, setDocs] = useState<Doc[]>([])
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState<string | null>(null)
  const seq = useRef(0)

  // Reload the list; only the latest request's answer is kept.
  const reload = useCallback(() => {
    const n = ++seq.current
    setLoading(true)
    listDocuments()
      .then((d) => {
        if (n !== seq.current) return
        setDocs(d)
        setError(null)
      })
      .catch((e) => n === seq.current && setError(errText(e)))
      .finally(() => n === seq.current && setLoading(false))
  }, [])

  const headRef = useRef<HTMLHeadingElement>(null)
  // Fresh list each time the page is shown (the chat may have run for a while); focus moves to the
  // page's heading so keyboard and screen-reader users start at the top of the new page.
  useEffect(() => {
    if (!visible) return
    reload()
    if (document.activeElement && document.activeElement !== document.body) headRef.current?.focus()
  }, [visible, reload])

  return (
    <section className="knowledge" aria-labelledby="k-h" hidden={!visible}>
      <h1 id="k-h" ref={headRef} tabIndex={-1}>
        {t.kTitle}
      </h1>
      <div className="grid">
        <UploadBox onAdded={reload} />
        <PasteBox onAdded={reload} />
        <DocList docs={docs} loading={loading} error={error} reload={reload} />
        <SearchBox />
      </div>
    </section>
  )
}
