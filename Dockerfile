# The application image: the API (`mediation api`, the default command) and the worker (`mediation worker`).
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# WeasyPrint's libraries (Pango, HarfBuzz and its font subsetter), fontconfig to index the fonts once here,
# and the CJK fonts the documents are set in.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libharfbuzz-subset0 \
        fontconfig \
        fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml alembic.ini cli.py ./
COPY core ./core
COPY domain ./domain
COPY models ./models
COPY documents ./documents
COPY workflows ./workflows
COPY api ./api
COPY demo ./demo
RUN pip install --no-cache-dir .

# An unprivileged user; its data directory (the seal key and certificate) is a volume in production.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/mediation mediation \
    && install -d -o mediation -g mediation -m 0750 /var/lib/mediation
USER 10001:10001

# Safe defaults for a container; the compose file sets every setting explicitly.
ENV MEDIATION_DEV_MODE=false \
    MEDIATION_DATA_DIR=/var/lib/mediation \
    MEDIATION_API_HOST=0.0.0.0 \
    MEDIATION_API_PORT=8000

EXPOSE 8000
CMD ["mediation", "api"]
