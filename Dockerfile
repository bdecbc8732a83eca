# Multi-stage image for llmd and ragd (amd64 and arm64: `docker buildx build --platform
# linux/amd64,linux/arm64 .`). Kernels are chosen at run time from the CPU's features, so one
# image runs on any CPU of its architecture.

# ---- build stage ----
FROM debian:12-slim AS build
COPY deploy/packages-build.txt /tmp/packages-build.txt
RUN apt-get update \
 && xargs -a /tmp/packages-build.txt apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY include include
COPY src src
COPY deploy/build.sh deploy/build.sh
RUN deploy/build.sh /out

# ---- runtime stage ----
FROM debian:12-slim
COPY deploy/packages-runtime.txt /tmp/packages-runtime.txt
RUN apt-get update \
 && xargs -a /tmp/packages-runtime.txt apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --create-home app \
 && mkdir -p /models /app/data \
 && chown app:app /models /app/data
COPY --from=build /out/ /usr/local/bin/
USER app
WORKDIR /app
ENV MODELS_DIR=/models HOST=0.0.0.0 PORT=8000
EXPOSE 8000 8080
CMD ["ragd", "serve"]
