#!/usr/bin/env bash
# make run: find or download the models, start llmd (127.0.0.1:8080) and ragd (:8000), print the
# chat URL, stop both on Ctrl-C. `make` has built build/rel/bin before this runs.
#
# Models (each overridable):
#   chat model   LLM_MODEL_PATH (a local GGUF, no download), else MODELS_DIR/$HF_FILENAME pulled
#                from HF_REPO_ID (default ggml-org/gemma-3-4b-it-GGUF, gemma-3-4b-it-Q4_K_M.gguf)
#   embeddings   EMBEDDING_MODEL: a .gguf path, or a Hub id (default
#                sentence-transformers/all-MiniLM-L6-v2) found in or pulled into MODELS_DIR
# Other settings: LLM_PORT (8080), PORT (8000), HOST, LLM_THREADS, LLM_CTX, and everything ragd
# reads (ragd serve --help). A .env file in this folder fills in what the environment leaves unset.
set -u
cd "$(dirname "$0")/.."
BIN=${LM_RELBIN:-build/rel/bin}

die() { echo "make run: $*" >&2; exit 1; }

# .env: KEY=VALUE lines; the environment wins (as in ragd itself)
if [ -f .env ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line#export }
    [[ "$line" =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=(.*)$ ]] || continue
    k=${BASH_REMATCH[1]}; v=${BASH_REMATCH[2]}
    v=${v#"${v%%[![:space:]]*}"}
    if [[ "$v" =~ ^\"(.*)\"$ || "$v" =~ ^\'(.*)\'$ ]]; then v=${BASH_REMATCH[1]}; fi
    [ -z "${!k+x}" ] && export "$k=$v"
  done < .env
fi

export MODELS_DIR=${MODELS_DIR:-models}
export HF_REPO_ID=${HF_REPO_ID:-ggml-org/gemma-3-4b-it-GGUF}
export HF_FILENAME=${HF_FILENAME:-gemma-3-4b-it-Q4_K_M.gguf}
export EMBEDDING_MODEL=${EMBEDDING_MODEL:-sentence-transformers/all-MiniLM-L6-v2}
LLM_PORT=${LLM_PORT:-8080}
export PORT=${PORT:-8000}
OFFLINE_HINT="set LLM_MODEL_PATH=/path/to/chat-model.gguf and EMBEDDING_MODEL=/path/to/embedding-model.gguf (e.g. all-MiniLM-L6-v2 as GGUF) to run without downloading"

[ -x "$BIN/llmd" ] && [ -x "$BIN/ragd" ] || die "no programs in $BIN (run make first)"

# the chat model
if [ -n "${LLM_MODEL_PATH:-}" ]; then
  [ -f "$LLM_MODEL_PATH" ] || die "LLM_MODEL_PATH=$LLM_MODEL_PATH: no such file"
  model=$LLM_MODEL_PATH
elif [ -f "$MODELS_DIR/$HF_FILENAME" ]; then
  model=$MODELS_DIR/$HF_FILENAME
else
  echo "make run: downloading $HF_REPO_ID/$HF_FILENAME into $MODELS_DIR (about 2.5 GB) ..." >&2
  "$BIN/ragd" pull --hf-repo "$HF_REPO_ID" --hf-file "$HF_FILENAME" --models-dir "$MODELS_DIR" ||
    die "cannot download the chat model $HF_REPO_ID/$HF_FILENAME; $OFFLINE_HINT"
  model=$MODELS_DIR/$HF_FILENAME
fi

# the embedding model
case "$EMBEDDING_MODEL" in
  *.gguf|*.GGUF)
    [ -f "$EMBEDDING_MODEL" ] || [ -f "$MODELS_DIR/$EMBEDDING_MODEL" ] ||
      die "EMBEDDING_MODEL=$EMBEDDING_MODEL: no such file" ;;
  *)
    "$BIN/ragd" pull --embedding >/dev/null ||
      die "cannot find or download the embedding model $EMBEDDING_MODEL; $OFFLINE_HINT" ;;
esac

alias_name=$(basename "$model")
export LLM_MODEL=${LLM_MODEL:-$alias_name}
export LLM_BASE_URL=${LLM_BASE_URL:-http://127.0.0.1:$LLM_PORT/v1}
llmd_args=(-m "$model" --host 127.0.0.1 --port "$LLM_PORT" --alias "$LLM_MODEL")
[ -n "${LLM_THREADS:-}" ] && llmd_args+=(-t "$LLM_THREADS")
[ -n "${LLM_CTX:-}" ] && llmd_args+=(-c "$LLM_CTX")
[ -n "${LLM_API_KEY:-}" ] && llmd_args+=(--api-key "$LLM_API_KEY")

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  echo "make run: stopped" >&2
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

echo "make run: starting llmd on 127.0.0.1:$LLM_PORT with $model" >&2
"$BIN/llmd" "${llmd_args[@]}" &
pids+=($!)
for _ in $(seq 1 600); do
  kill -0 "${pids[0]}" 2>/dev/null || die "llmd exited (see the lines above)"
  curl -fsS "http://127.0.0.1:$LLM_PORT/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$LLM_PORT/health" >/dev/null 2>&1 || die "llmd did not become ready in 5 minutes"

"$BIN/ragd" serve &
pids+=($!)
for _ in $(seq 1 240); do
  kill -0 "${pids[1]}" 2>/dev/null || die "ragd exited (see the lines above)"
  curl -fsS "http://127.0.0.1:$PORT/api/v1/health" >/dev/null 2>&1 && break
  sleep 0.5
done
echo
echo "  Chat: http://localhost:$PORT/    (Ctrl-C stops llmd and ragd)"
echo
# wait until either server exits or Ctrl-C arrives
while kill -0 "${pids[0]}" 2>/dev/null && kill -0 "${pids[1]}" 2>/dev/null; do sleep 1; done
echo "make run: a server exited" >&2
exit 1
