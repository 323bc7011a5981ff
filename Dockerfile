# One image for the three services; pick one with the command: `run eligibility|planner|notifier`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY services ./services
RUN pip install --no-cache-dir . \
    && rm -rf build ./*.egg-info \
    && groupadd --system --gid 10001 courseflow \
    && useradd --system --uid 10001 --gid courseflow --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin courseflow

USER 10001:10001
ENTRYPOINT ["courseflow"]
CMD ["run", "eligibility"]
