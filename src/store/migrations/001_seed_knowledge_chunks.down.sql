DROP INDEX IF EXISTS ix_knowledge_chunks_embedding;
DROP TABLE IF EXISTS knowledge_chunks;
DROP EXTENSION IF EXISTS vector;
