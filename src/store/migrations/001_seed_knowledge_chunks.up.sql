-- The seed's migration (§6): pgvector, the knowledge_chunks table, and the ivfflat index with the
-- cosine opclass. {{DIM}} is the embedding model's dimension (384 for all-MiniLM-L6-v2).
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE knowledge_chunks (
    id SERIAL PRIMARY KEY,
    source VARCHAR,
    content TEXT NOT NULL,
    embedding vector({{DIM}}) NOT NULL,
    created_at TIMESTAMP DEFAULT now()
);
COMMENT ON COLUMN knowledge_chunks.source IS '来源标识';
COMMENT ON COLUMN knowledge_chunks.content IS '文本内容';
COMMENT ON COLUMN knowledge_chunks.embedding IS '向量表示';
CREATE INDEX ix_knowledge_chunks_embedding ON knowledge_chunks
    USING ivfflat (embedding vector_cosine_ops) WITH (lists = 100);
ANALYZE knowledge_chunks;
