# Warroom's image: `warroom serve` (HTTP on 3000, or Socket Mode) and `warroom migrate`.
#   docker build -t ghcr.io/warroom/warroom:0.1.0 .
ARG PYTHON_IMAGE=python:3.11-slim

# Builder: the project and its dependencies installed into a venv (all from wheels on PyPI).
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
# Not editable: the venv holds the package itself, so the source tree stays behind.
RUN pip install . \
    && python -m compileall -q /opt/venv/lib

# Final: the same Python, the venv and a non-root user; no build tools, no source tree.
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WARROOM_DATA_DIR=/data \
    PORT=3000
RUN groupadd --system --gid 10001 warroom \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin warroom \
    && mkdir -p /data /app \
    && chown 10001:10001 /data
COPY --from=builder /opt/venv /opt/venv
# Settings come from the environment; there is no .env in the image.
WORKDIR /app
USER 10001:10001
EXPOSE 3000
ENTRYPOINT ["warroom"]
CMD ["serve"]
