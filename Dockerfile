# The image a sharded run on Kubernetes runs (`coldfront k8s --image IMAGE`): coldfront's
# release binary on a slim Debian with `sh`, `mv` and CA certificates, nothing else (a sharded
# run targets external URLs; no PostgreSQL, Node.js or browser is needed).
#
#   docker build -t REGISTRY/coldfront:TAG .
#   docker push REGISTRY/coldfront:TAG
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY bench bench
COPY targets targets
RUN cargo build --release --locked -p coldfront --bin coldfront

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/coldfront /usr/local/bin/coldfront
# The manifests run their own `sh -c` scripts; by hand, `docker run IMAGE coldfront run ...`.
CMD ["coldfront", "--help"]
