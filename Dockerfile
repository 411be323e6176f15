# The operator's image: a Rust builder stage, then distroless `cc` (glibc and CA certificates, no
# shell, no package manager) running as a numeric non-root user. The CRD and the example files are
# not copied into the image: `crd` prints the CRD from the code, and `demo` carries its example
# org inside the binary.
#
#   docker build -t dialpad-teams-operator .
#
# .ci/run builds the binary with the same cargo command as the builder stage and runs it as a
# non-root user from a read-only directory with no HOME.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# benches/ is named in Cargo.toml; examples/ is embedded by the demo (include_str!); sandbox/ is
# the workspace's other crate (the demo serves it) and embeds Microsoft's licensing table from vendor/.
COPY benches ./benches
COPY examples ./examples
COPY vendor/microsoft-licensing-service-plans.csv ./vendor/
COPY sandbox ./sandbox
COPY src ./src
RUN cargo build --release --locked \
    && install -D -m 0555 target/release/dialpad-teams-operator /out/dialpad-teams-operator

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/dialpad-teams-operator /usr/local/bin/dialpad-teams-operator
# distroless' nonroot user, by number so that runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/dialpad-teams-operator"]
CMD ["run"]
