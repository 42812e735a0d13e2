# causalkv image: Debian bookworm-slim with Debian's OpenJDK 17, on amd64 and arm64 (the jar carries
# RocksDB's linux x86-64 and aarch64 glibc libraries). Configured only by VIEW and IP_PORT.
#
#   docker build -t causalkv .                                  # builds the jar here (Maven stage)
#   mvn -B package -DskipTests && \
#   docker build --target runtime-hostjar -t causalkv .         # the same runtime stage, jar from the host
#
# Both final stages are `runtime-base` plus the jar and its training run (below), nothing else.
# Stages are ordered so that the classic builder (which builds every stage before its target) never
# runs Maven for --target runtime-hostjar; BuildKit builds only what the target needs anyway.

# ---- runtime-base: JRE, user, probes; no jar yet
FROM debian:bookworm-slim AS runtime-base
# openjdk's postinst needs man1 to exist, which slim images strip
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin causalkv \
 && mkdir -p /data /app/lib \
 && chown causalkv:causalkv /data
COPY docker/probe /usr/local/bin/causalkv-probe
COPY docker/node /usr/local/bin/causalkv-node
COPY docker/train /usr/local/lib/causalkv/train
COPY docker/jvm.args /app/jvm.args
ENV PORT=8080 \
    BIND=0.0.0.0 \
    DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
# liveness only (the process answers); readiness (caught up) is GET /ready, used by compose and k8s
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 CMD ["/usr/local/bin/causalkv-probe", "/health"]
# exec form, and causalkv-node execs the JVM: it is PID 1 and gets SIGTERM itself, which runs its
# shutdown hook (parked reads answered, store closed), so `docker stop` ends in well under its 10 s
STOPSIGNAL SIGTERM
WORKDIR /app
ENTRYPOINT ["/usr/local/bin/causalkv-node"]

# ---- runtime-hostjar: the runtime stage with target/causalkv.jar built on the host
FROM runtime-base AS runtime-hostjar
# (the bracket makes the jar optional, so that a classic builder making the default target on a
# checkout without target/ does not fail here; this stage is only meant for --target runtime-hostjar)
COPY docker/jvm.args target/causalkv.ja[r] /app/
RUN /usr/local/lib/causalkv/train
USER causalkv

# ---- build: the jar, built from source with Debian's Maven and JDK
FROM debian:bookworm-slim AS build
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && apt-get install -y --no-install-recommends maven openjdk-17-jdk-headless \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

# ---- runtime (default): the runtime stage with the jar from the build stage
FROM runtime-base AS runtime
COPY --from=build /src/target/causalkv.jar /app/causalkv.jar
RUN /usr/local/lib/causalkv/train
USER causalkv
