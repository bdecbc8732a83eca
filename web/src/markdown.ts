// Markdown to sanitised HTML: marked parses (GFM), DOMPurify removes anything active, so no HTML
// from the model or from documents reaches the DOM unsanitised. Links open in a new tab.
import { Marked } from 'marked'
import DOMPurify from 'dompurify'

const md = new Marked({ gfm: true, breaks: true, async: false })

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank')
    node.setAttribute('rel', 'noopener noreferrer nofollow')
  }
})

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed'],
  FORBID_ATTR: ['style'],
}

// Raw HTML in the source is shown as text, not interpreted: escape it before marked sees it
// (outside code spans/blocks, which marked escapes itself).
function escapeHtmlOutsideCode(src: string): string {
  const out: string[] = []
  const fence = /^(\s*)(```|~~~)/
  let inFence: string | null = null
  for (const line of src.split('\n')) {
    const m = fence.exec(line)
    if (inFence) {
      if (m && m[2] === inFence) inFence = null
      out.push(line)
      continue
    }
    if (m) {
      inFence = m[2]
      out.push(line)
      continue
    }
    // Keep inline code spans verbatim; escape < and & elsewhere (> stays: it is blockquote syntax).
    out.push(
      line
        .split(/(`+[^`]*`+)/)
        .map((part, i) => (i % 2 ? part : part.replace(/&(?![a-zA-Z#0-9]+;)/g, '&amp;').replace(/</g, '&lt;')))
        .join(''),
    )
  }
  return out.join('\n')
}

export function renderMarkdown(src: string): string {
  const html = md.parse(escapeHtmlOutsideCode(src)) as string
  return DOMPurify.sanitize(html, PURIFY) as unknown as string
}
