# syntax=docker/dockerfile:1
# Hera's container image: the `hera` binary (every role: the server, `hera bff`, `hera clients`)
# on a distroless base with glibc and CA certificates, no shell, running as an unprivileged user.
#
#   docker build -t hera .
#   docker run -p 3000:3000 -e HERA_PUBLIC_URL=https://hera.example.com -e HERA_COOKIE_SECRET=… hera
#
# Not built or run in this project's CI (its machines have no Docker engine); the binary is the
# one the tests run. Settings are the environment variables of docs/configuration.md.

FROM rust:1.89-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin hera \
 && install -D -m 0755 target/release/hera /out/hera

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/hera /usr/local/bin/hera
# Listen on every interface inside the container; put TLS in front (HERA_PUBLIC_URL=https://…).
ENV HERA_BIND=0.0.0.0:3000
EXPOSE 3000
USER nonroot:nonroot
# `hera health` asks the server on HERA_BIND for /health/alive (the image has no curl).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/hera", "health"]
ENTRYPOINT ["/usr/local/bin/hera"]
