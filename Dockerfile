# The ledger as a slim, non-root image. SQLite by default (a volume at /data);
# set LEDGER_DATABASE_URL=postgresql://USER:PASSWORD@HOST:5432/DB for PostgreSQL.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY api ./api
COPY projections ./projections
COPY stores ./stores
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    LEDGER_ENVIRONMENT=production \
    LEDGER_DATABASE_URL=sqlite:////data/ledger.db \
    LEDGER_HOST=0.0.0.0 LEDGER_PORT=8000
COPY --from=build /install /usr/local
# Alembic's migrations of the read models; the service runs `upgrade head` on start.
COPY alembic.ini /app/alembic.ini
COPY alembic /app/alembic
ENV LEDGER_ALEMBIC_DIR=/app/alembic
RUN useradd --system --uid 10001 --home /data ledger && mkdir -p /data && chown ledger /data
USER ledger
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"
# LEDGER_ID_HASH_KEY must be set in production: the service refuses to start without it.
CMD ["ledger", "serve"]
