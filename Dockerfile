# Build stage: compile and package the single runnable jar.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

# Runtime stage: a glibc JRE (RocksDB ships no musl library) and the jar. Configured only by VIEW
# and IP_PORT, as in the assignment. Half the memory goes to the heap: RocksDB lives off-heap.
FROM eclipse-temurin:17-jre
WORKDIR /app
COPY --from=build /src/target/causalkv.jar /app/causalkv.jar
ENV PORT=8080 \
    BIND=0.0.0.0 \
    DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["java", "-XX:+UseSerialGC", "-XX:MaxRAMPercentage=50", "-jar", "/app/causalkv.jar"]
