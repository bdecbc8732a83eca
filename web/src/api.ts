// Knowledge API client (SPEC §3, /api/v1/knowledge/*). Responses are read tolerantly: a list may
// come bare or wrapped, so the page keeps working if the server adds fields.

const BASE = '/api/v1/knowledge'

export interface Doc {
  id: number | string
  source: string
  chunks: number
  created_at?: string | number
}

export interface Hit {
  source: string
  chunk_id?: number | string
  score?: number
  text: string
}

export interface AddResult {
  message?: string
  document_id?: number | string
  chunks?: number
  duplicate?: boolean // the same content was already stored; nothing new was added
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

// The server's error message from a JSON body ({"error":{"message"}} or {"error":"..."} or
// {"message"/"detail"}), else the status line.
function errorFrom(status: number, statusText: string, body: string): ApiError {
  let msg = ''
  try {
    const j = JSON.parse(body)
    const e = j?.error
    msg = (typeof e === 'string' ? e : e?.message) ?? j?.message ?? j?.detail ?? ''
  } catch {
    msg = body.trim().slice(0, 200)
  }
  return new ApiError(msg || `HTTP ${status} ${statusText}`.trim(), status)
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response
  try {
    res = await fetch(BASE + path, { ...init, headers: { Accept: 'application/json', ...init?.headers } })
  } catch (e) {
    throw new ApiError(e instanceof Error ? e.message : String(e), 0)
  }
  const text = await res.text()
  if (!res.ok) throw errorFrom(res.status, res.statusText, text)
  return (text ? JSON.parse(text) : {}) as T
}

function listFrom<T>(j: unknown, keys: string[]): T[] {
  if (Array.isArray(j)) return j as T[]
  if (j && typeof j === 'object')
    for (const k of keys) {
      const v = (j as Record<string, unknown>)[k]
      if (Array.isArray(v)) return v as T[]
    }
  return []
}

export async function listDocuments(): Promise<Doc[]> {
  const j = await request<unknown>('/documents')
  return listFrom<Doc>(j, ['documents', 'items', 'data'])
}

export function deleteDocument(id: Doc['id']): Promise<unknown> {
  return request(`/documents/${encodeURIComponent(String(id))}`, { method: 'DELETE' })
}

export function addDocument(source: string, content: string): Promise<AddResult> {
  return request<AddResult>('/add-document', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ source, content }),
  })
}

export async function search(query: string, topK: number): Promise<Hit[]> {
  const j = await request<unknown>('/search', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query, top_k: topK }),
  })
  return listFrom<Hit>(j, ['hits', 'results', 'items', 'chunks', 'data'])
}

// One file as multipart field "file", with upload progress (fetch has none, XMLHttpRequest has).
// onProgress gets 0..1 while bytes go up; the promise settles when the server has answered.
export function uploadFile(
  file: File,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<AddResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `${BASE}/upload`)
    xhr.setRequestHeader('Accept', 'application/json')
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total)
    }
    xhr.upload.onload = () => onProgress(1)
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(xhr.responseText ? JSON.parse(xhr.responseText) : {})
        } catch {
          resolve({})
        }
      } else reject(errorFrom(xhr.status, xhr.statusText, xhr.responseText))
    }
    xhr.onerror = () => reject(new ApiError('network error', 0))
    xhr.onabort = () => reject(new ApiError('aborted', 0))
    signal?.addEventListener('abort', () => xhr.abort())
    const form = new FormData()
    form.append('file', file, file.name)
    xhr.send(form)
  })
}

export interface Health {
  status?: 'ok' | 'degraded' | 'error'
  store?: { ok: boolean; kind?: string; documents?: number; chunks?: number; error?: string }
  llm?: { ok: boolean; base_url?: string; model?: string; n_ctx?: number; error?: string }
  embedder?: { ok: boolean; model?: string; dim?: number; error?: string }
}

// GET /api/v1/health; its body is read whatever the status (503 still says what is wrong).
export async function health(): Promise<Health | null> {
  try {
    const r = await fetch('/api/v1/health', { headers: { Accept: 'application/json' } })
    return (await r.json()) as Health
  } catch {
    return null
  }
}
