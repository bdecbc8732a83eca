// Markdown to sanitised HTML: marked parses (GFM), raw HTML in the text is rendered as visible text
// (never interpreted), and DOMPurify then removes anything active that is left (javascript: links,
// event attributes), so no HTML from the model or from documents reaches the DOM unsanitised.
// Links open in a new tab.
import { Marked } from 'marked'
import DOMPurify from 'dompurify'

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

const md = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    // Block and inline HTML tokens: show the source text.
    html({ text, block }) {
      return block ? `<p>${escapeHtml(text.replace(/\n+$/, ''))}</p>\n` : escapeHtml(text)
    },
  },
})

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

export function renderMarkdown(src: string): string {
  const html = md.parse(src) as string
  return DOMPurify.sanitize(html, PURIFY) as unknown as string
}
