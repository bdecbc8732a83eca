// UI strings in English and Chinese; the language comes from the browser unless the user picked one.
import { createContext, useContext } from 'react'

export type Lang = 'en' | 'zh'

const en = {
  appTitle: 'Knowledge chat',
  navChat: 'Chat',
  navKnowledge: 'Knowledge',
  language: 'Language',
  themeLight: 'Light theme',
  themeDark: 'Dark theme',
  themeSystem: 'System theme',
  themeToggle: 'Switch theme',
  // connection
  connConnecting: 'Connecting…',
  connOpen: 'Connected',
  connReconnecting: (s: number) => `Connection lost, reconnecting in ${s}s…`,
  connReconnectNow: 'Reconnect now',
  connReconnectingNow: 'Connection lost, reconnecting…',
  connRestored: 'Reconnected. The server starts a new conversation context.',
  // chat
  llmDown: (e: string) => `The language model is not reachable${e ? ` (${e})` : ''}. Answers will fail until it is back.`,
  storeDown: (e: string) => `The knowledge store or embedder has a problem${e ? `: ${e}` : ''}.`,
  modelInfo: (m: string, d: number, c: number) => `Model ${m} · ${d} document${d === 1 ? '' : 's'}, ${c} chunk${c === 1 ? '' : 's'}`,
  chatEmptyTitle: 'Ask about your documents',
  chatEmptyHint: 'Answers use the documents in the knowledge base. Add some on the Knowledge page.',
  inputLabel: 'Your question',
  inputPlaceholder: 'Ask a question… (Enter to send, Shift+Enter for a new line)',
  stopHint: 'Stop (Esc)',
  send: 'Send',
  stop: 'Stop',
  newChat: 'New conversation',
  you: 'You',
  assistant: 'Assistant',
  thinking: 'Thinking…',
  stopped: 'Stopped',
  retry: 'Try again',
  noSources: 'No matching documents; answered without references.',
  interrupted: 'The connection dropped before the answer finished.',
  notConnected: 'Not connected to the server yet; try again in a moment.',
  sources: (n: number) => `Sources (${n})`,
  score: 'score',
  chunk: 'chunk',
  copy: 'Copy',
  copied: 'Copied',
  errorPrefix: 'Error',
  // knowledge
  kTitle: 'Knowledge base',
  kUploadTitle: 'Upload files',
  kDropHint: 'Drop .txt, .md, .html or .pdf files here, or',
  kChoose: 'choose files',
  kDropActive: 'Release to upload',
  kUploading: (p: number) => `Uploading ${p}%`,
  kProcessing: 'Processing…',
  kDone: (n: number) => `Added, ${n} chunk${n === 1 ? '' : 's'}`,
  kDuplicate: 'Already in the knowledge base',
  kUnsupported: 'not a supported file type (.txt, .md, .html, .pdf)',
  kClear: 'Clear finished',
  kPasteTitle: 'Paste text',
  kSource: 'Name',
  kSourcePlaceholder: 'e.g. handbook.md',
  kContent: 'Text',
  kContentPlaceholder: 'Paste the text to add…',
  kAdd: 'Add document',
  kAdding: 'Adding…',
  kAdded: (n: number) => `Added, ${n} chunk${n === 1 ? '' : 's'}.`,
  kNeedBoth: 'Enter a name and some text.',
  kDocsTitle: 'Documents',
  kRefresh: 'Refresh',
  kLoading: 'Loading…',
  kNoDocs: 'No documents yet.',
  kColSource: 'Document',
  kColChunks: 'Chunks',
  kColDate: 'Added',
  kColActions: 'Actions',
  kDelete: 'Delete',
  kConfirmDelete: (s: string) => `Delete “${s}” and its chunks?`,
  kConfirm: 'Yes, delete',
  kCancel: 'Cancel',
  kDeleted: (s: string) => `Deleted “${s}”.`,
  kSearchTitle: 'Try retrieval',
  kQuery: 'Query',
  kQueryPlaceholder: 'What would you ask?',
  kTopK: 'Results',
  kSearch: 'Search',
  kNoHits: 'No matching chunks.',
  kDocCount: (n: number) => `${n} document${n === 1 ? '' : 's'}`,
}

export type Strings = typeof en

const zh: Strings = {
  appTitle: '知识库问答',
  navChat: '对话',
  navKnowledge: '知识库',
  language: '语言',
  themeLight: '浅色主题',
  themeDark: '深色主题',
  themeSystem: '跟随系统',
  themeToggle: '切换主题',
  connConnecting: '正在连接…',
  connOpen: '已连接',
  connReconnecting: (s: number) => `连接已断开，${s} 秒后重连…`,
  connReconnectNow: '立即重连',
  connReconnectingNow: '连接已断开，正在重连…',
  connRestored: '已重新连接。服务器将开始新的对话上下文。',
  llmDown: (e: string) => `无法连接语言模型${e ? `（${e}）` : ''}，恢复前无法回答。`,
  storeDown: (e: string) => `知识库存储或向量模型出现问题${e ? `：${e}` : ''}。`,
  modelInfo: (m: string, d: number, c: number) => `模型 ${m} · ${d} 个文档，${c} 个分块`,
  chatEmptyTitle: '向你的文档提问',
  chatEmptyHint: '回答会参考知识库中的文档，可在“知识库”页面添加。',
  inputLabel: '你的问题',
  inputPlaceholder: '输入问题…（Enter 发送，Shift+Enter 换行）',
  stopHint: '停止（Esc）',
  send: '发送',
  stop: '停止',
  newChat: '新对话',
  you: '你',
  assistant: '助手',
  thinking: '思考中…',
  stopped: '已停止',
  retry: '重试',
  noSources: '没有匹配的文档，未参考资料作答。',
  interrupted: '回答完成前连接已断开。',
  notConnected: '尚未连接到服务器，请稍后再试。',
  sources: (n: number) => `参考资料（${n}）`,
  score: '相似度',
  chunk: '分块',
  copy: '复制',
  copied: '已复制',
  errorPrefix: '错误',
  kTitle: '知识库',
  kUploadTitle: '上传文件',
  kDropHint: '将 .txt、.md、.html 或 .pdf 文件拖到这里，或',
  kChoose: '选择文件',
  kDropActive: '松开即可上传',
  kUploading: (p: number) => `上传中 ${p}%`,
  kProcessing: '处理中…',
  kDone: (n: number) => `已添加，${n} 块`,
  kDuplicate: '知识库中已有相同内容',
  kUnsupported: '不支持的文件类型（支持 .txt、.md、.html、.pdf）',
  kClear: '清除已完成',
  kPasteTitle: '粘贴文本',
  kSource: '名称',
  kSourcePlaceholder: '例如 handbook.md',
  kContent: '文本',
  kContentPlaceholder: '粘贴要添加的文本…',
  kAdd: '添加文档',
  kAdding: '添加中…',
  kAdded: (n: number) => `已添加，切分为 ${n} 块。`,
  kNeedBoth: '请输入名称和文本。',
  kDocsTitle: '文档',
  kRefresh: '刷新',
  kLoading: '加载中…',
  kNoDocs: '还没有文档。',
  kColSource: '文档',
  kColChunks: '块数',
  kColDate: '添加时间',
  kColActions: '操作',
  kDelete: '删除',
  kConfirmDelete: (s: string) => `删除“${s}”及其所有分块？`,
  kConfirm: '确认删除',
  kCancel: '取消',
  kDeleted: (s: string) => `已删除“${s}”。`,
  kSearchTitle: '检索测试',
  kQuery: '查询',
  kQueryPlaceholder: '你会问什么？',
  kTopK: '结果数',
  kSearch: '搜索',
  kNoHits: '没有匹配的分块。',
  kDocCount: (n: number) => `${n} 个文档`,
}

export const STRINGS: Record<Lang, Strings> = { en, zh }

// The user's saved choice, else the first browser language we support, else English.
export function initialLang(): Lang {
  try {
    const saved = localStorage.getItem('ragd.lang')
    if (saved === 'en' || saved === 'zh') return saved
  } catch {
    /* storage may be blocked */
  }
  for (const l of navigator.languages ?? [navigator.language]) {
    const p = l.toLowerCase()
    if (p.startsWith('zh')) return 'zh'
    if (p.startsWith('en')) return 'en'
  }
  return 'en'
}

export const LangContext = createContext<{ lang: Lang; t: Strings }>({ lang: 'en', t: en })

export function useT(): Strings {
  return useContext(LangContext).t
}

export function useLang(): Lang {
  return useContext(LangContext).lang
}
