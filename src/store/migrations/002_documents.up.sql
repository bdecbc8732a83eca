-- Documents that chunks belong to: deleting a document deletes its chunks; the content hash
-- detects a document added twice. ragd_meta records the embedding model and index builds.
CREATE TABLE knowledge_documents (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    n_chunks INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
COMMENT ON TABLE knowledge_documents IS 'documents added through ragd; knowledge_chunks.document_id points here';
CREATE INDEX ix_knowledge_documents_hash ON knowledge_documents (content_hash);
ALTER TABLE knowledge_chunks
    ADD COLUMN document_id BIGINT REFERENCES knowledge_documents (id) ON DELETE CASCADE;
CREATE INDEX ix_knowledge_chunks_document ON knowledge_chunks (document_id);
CREATE TABLE ragd_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
