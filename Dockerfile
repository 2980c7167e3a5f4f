# baton-percipio container image.
#   docker build -t baton-percipio .
#   docker run --rm -v baton-data:/data -e BATON_API_TOKEN -e BATON_ORGANIZATION_ID baton-percipio
# Configured purely by BATON_* environment variables (see `baton-percipio --help`); the c1z file is
# written to the /data volume. Add `--interval 6h --metrics-addr :9090` to run as a daemon.

# Build stage: the same Debian packages as scripts/bootstrap, a Release build, and the Debian
# package from cpack, whose Depends (from dpkg-shlibdeps) decide what the runtime stage installs.
FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ccache libasio-dev node-llhttp libsimdjson-dev \
      libfmt-dev libssl-dev libsqlite3-dev sqlite3 libzstd-dev zstd libprotobuf-dev protobuf-compiler \
      zlib1g-dev doctest-dev ca-certificates openssl xxd procps dpkg-dev file \
      libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libxxhash-dev libyaml-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN BP_PACKAGE_DIR=/build scripts/package > /tmp/deb-path \
 && cp "$(cat /tmp/deb-path)" /baton-percipio.deb

# Runtime stage: the package (binary, man page and its runtime libraries: libssl3, libsqlite3-0,
# libzstd1, libxxhash0, libprotobuf32, libgrpc++1.51, zlib1g, libfmt9, libsimdjson14, ...) plus CA certificates; nothing else.
FROM debian:bookworm-slim AS runtime
LABEL org.opencontainers.image.title="baton-percipio" \
      org.opencontainers.image.description="Baton connector for Skillsoft Percipio"
COPY --from=build /baton-percipio.deb /tmp/baton-percipio.deb
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates /tmp/baton-percipio.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/baton-percipio.deb \
 && groupadd --system --gid 65532 nonroot \
 && useradd --system --uid 65532 --gid 65532 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin nonroot \
 && mkdir -p /data \
 && chown 65532:65532 /data \
 && chmod 0700 /data
# The c1z holds names and emails: it is created 0600 (BATON_FILE_MODE) inside a 0700 directory.
# One-shot and daemon runs write ./sync.c1z, that is /data/sync.c1z. No BATON_FILE here: with
# BATON_CLIENT_ID in the environment the same image runs ConductorOne service mode, where a file
# setting does not apply and is refused.
WORKDIR /data
VOLUME ["/data"]
USER 65532:65532
# Only used with --metrics-addr :9090 (Prometheus /metrics, /healthz, /readyz).
EXPOSE 9090
ENTRYPOINT ["/usr/bin/baton-percipio"]
