-- Keyword search: a tsvector column with a GIN index for words, and trigrams for text without
-- spaces between words (Chinese), where the 'simple' parser keeps a whole run as one token.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE knowledge_chunks
    ADD COLUMN content_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED;
CREATE INDEX ix_knowledge_chunks_tsv ON knowledge_chunks USING gin (content_tsv);
CREATE INDEX ix_knowledge_chunks_trgm ON knowledge_chunks USING gin (content gin_trgm_ops);
