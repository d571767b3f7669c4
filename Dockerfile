# syntax=docker/dockerfile:1
# DAIVI Lakehouse Explorer: one image for the demo and for AWS.
#   demo (embedded DuckDB, demo personas; builds the demo lakehouse on first visit):
#     docker build -t daivi-explorer . && docker run --rm -p 8501:8501 daivi-explorer
#   AWS (Athena, ALB sign-in): deploy/cloudformation/daivi.yaml runs it with DAIVI_* settings and
#     DAIVI_SECRETS_TOML (see docs/aws.md, "Runbook").
# Every setting is a DAIVI_* environment variable (daivi_data/settings.py) or a line of the secrets file.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The app runs as an unprivileged user that cannot change its own code.
RUN groupadd --system --gid 10001 daivi \
 && useradd --system --uid 10001 --gid daivi --create-home --home-dir /home/daivi --shell /usr/sbin/nologin daivi

WORKDIR /app
# Requirements first: the dependency layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# Writable state lives in the user's home: the demo lakehouse and the audit file. The audit also goes to
# stdout as JSON lines, where the container's log driver keeps it beyond the container's life.
ENV DAIVI_LAKEHOUSE_PATH=/home/daivi/data/lakehouse \
    DAIVI_AUDIT_LOG=/home/daivi/data/audit.jsonl \
    DAIVI_AUDIT_STDOUT=true

USER 10001:10001
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
ENTRYPOINT ["/app/deploy/docker-entrypoint.sh"]
CMD ["streamlit", "run", "Home.py", "--server.port=8501", "--server.address=0.0.0.0"]
